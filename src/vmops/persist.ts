/**
 * `--persistent` (virsh --config): a change made to the running VM is also made to the stored definition.
 * Native definitions are rewritten through the native exporter (the spec round-trips through it, as
 * define({spec}) does); libvirt XML definitions through the libvirt exporter, then parsed back; a
 * qemu-launcher definition is refused (its `qemu:` list is the user's own QEMU options: edit the file).
 */
import { VmkitError } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';
import type { Domain } from '../driver/domain.js';
import type { StoredDomain } from '../driver/store.js';

/** Checks, before anything changes, that the definition of `d` can take a persistent change. */
export function checkPersistable(d: Domain): void {
  const f = d.record.format;
  if (f === 'qemu-launcher') {
    throw new VmkitError('InvalidArgument', `Cannot change the definition of domain '${d.name}' persistently: it is a qemu-launcher file whose QEMU options are written by hand; edit ${d.record.file ?? 'the file'} and define it again, or leave out --persistent`, {
      details: { domain: d.name, format: f },
    });
  }
}

/** Rewrites the stored definition of `d` with `change` applied to its spec. */
export async function persistChange(d: Domain, change: (spec: DomainSpec) => DomainSpec): Promise<void> {
  checkPersistable(d);
  const rec = d.record;
  const spec = change(rec.spec);
  const { readDefinition } = await import('../driver/definition-input.js');
  // Written out in the definition's format and read back: device ids become the ones that format gives
  // (a native definition numbers its disks disk0, disk1...), as after any define.
  let text: string;
  if (rec.format === 'libvirt-xml') {
    const { exportLibvirtXml } = await import('../config/libvirt/export-domain.js');
    text = exportLibvirtXml(spec);
  } else {
    const { exportNativeYaml } = await import('../config/native/export-native.js');
    text = exportNativeYaml(spec);
  }
  const parsed = await readDefinition({ text, ...(rec.baseDir === undefined ? {} : { baseDir: rec.baseDir }) });
  const next: StoredDomain = {
    ...rec,
    format: parsed.format,
    text: parsed.text,
    spec: { ...parsed.spec, uuid: rec.uuid },
    updatedAt: new Date().toISOString(),
  };
  // The text is no longer the file's: the definition is the stored one from now on.
  delete (next as { file?: string }).file;
  await d.replaceRecord(next);
}
