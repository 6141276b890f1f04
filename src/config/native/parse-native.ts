/** Native vmkit YAML: text -> (YAML + positions) -> schema check -> defaults and semantic checks. Pure. */
import type { FormatInput, FormatResult } from '../format-result.js';
import { pruneInvalid } from '../prune.js';
import { ResolveContext, type Loose } from '../resolve-context.js';
import { DEADLINE_MESSAGE } from '../sched.js';
import { reportSchemaErrors, type SchemaProblemHints } from '../schema-problems.js';
import { readYaml, type YamlSource } from '../yaml-source.js';
import { NATIVE_DISK_FORMAT_HINT } from './disk-source.js';
import { resolveDomain } from './resolve-domain.js';
import type { DomainInputT } from './schema.js';
import { nativeValidator } from '../validators.js';

export { parseNativeValue } from './parse-native-value.js';

export const NATIVE_HINTS: SchemaProblemHints = {
  required: {
    name: 'every domain needs a name',
    format: NATIVE_DISK_FORMAT_HINT,
    path: 'the disk image file (disks), or the serial file or socket (serial)',
    kernel: 'direct kernel boot needs a kernel image',
    ifname: 'a tap NIC needs the name of an existing host tap interface',
    bridge: 'a bridge NIC needs an existing host bridge, e.g. br0',
    network: 'a network NIC needs the name of a libvirt network, e.g. default',
    host: 'the host PCI address of a device bound to vfio-pci, e.g. 0000:03:10.2',
    nodes: 'the host NUMA nodes, e.g. "0" or "0-1"',
  },
  rejectedValues: { deadline: DEADLINE_MESSAGE },
};

/** `src`: the text already read by readYaml (it is not read again). */
export function parseNative(input: FormatInput, src: YamlSource = readYaml(input.text, input.file)): FormatResult {
  if (src.fatal) return { problems: src.problems.list };
  if (src.value === undefined || src.value === null) {
    src.problems.add('', { message: 'The definition is empty; it needs at least `name`' });
    return { problems: src.problems.list };
  }
  const validate = nativeValidator();
  const invalid = validate(src.value) ? [] : reportSchemaErrors(validate.errors ?? [], src.problems, NATIVE_HINTS);
  // The value is this parse's own: without invalid parts to remove there is nothing to copy.
  const pruned = invalid.length === 0 ? src.value : pruneInvalid(src.value, invalid);
  if (pruned === null || typeof pruned !== 'object' || Array.isArray(pruned)) return { problems: src.problems.list };
  const ctx = new ResolveContext(src.problems, input.baseDir, invalid);
  const spec = resolveDomain(pruned as Loose<DomainInputT>, ctx, input.file);
  return { spec, problems: src.problems.list };
}
