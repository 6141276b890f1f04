/**
 * `vmkit dumpxml NAME`: the definition as libvirt domain XML, as `virsh dumpxml` gives it. An XML definition
 * comes back as written; a YAML one is exported (exportLibvirtXml), with vmkit-only settings in <metadata>.
 */
import { dirname } from 'node:path';
import { exportLibvirtXml, parseDefinition } from '../../config/index.js';
import { VmkitError } from '../../errors.js';
import { printJson } from '../output.js';
import { withConnection, type ConnectFlags } from './remote.js';

export function dumpxmlCommand(name: string, flags: ConnectFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const def = await conn.lookup(name).definition();
    let xml: string;
    if (def.format === 'libvirt-xml') xml = def.text;
    else if (def.format === 'vmkit-yaml' || def.format === 'qemu-launcher') {
      const spec = parseDefinition(def.text, { file: def.file, baseDir: def.file === undefined ? process.cwd() : dirname(def.file) });
      xml = exportLibvirtXml(spec);
    } else {
      throw new VmkitError('InvalidArgument', `Domain '${name}' was defined as a ${def.format}, which has no libvirt XML form here; use 'vmkit dump ${name}'`);
    }
    if (flags.json === true) printJson({ name, format: 'libvirt-xml', text: xml });
    else process.stdout.write(xml.endsWith('\n') ? xml : `${xml}\n`);
  });
}
