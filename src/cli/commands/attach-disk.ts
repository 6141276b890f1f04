/** `vmkit attach-disk NAME PATH --format FMT [--id ID]`: hot-plug a virtio disk. */
import { VmkitError } from '../../errors.js';
import { emit, hotplugOpts, withOps, type OpsFlags } from './vmops-common.js';

export interface AttachDiskFlags extends OpsFlags {
  readonly id?: string;
  readonly format?: string;
  readonly readonly?: boolean;
  readonly serial?: string;
  readonly cache?: string;
}

export function attachDiskCommand(name: string, path: string, flags: AttachDiskFlags): Promise<number> {
  return withOps(flags, async (ops) => {
    if (flags.format === undefined) throw new VmkitError('InvalidArgument', '--format is required: name the image format (raw, qcow2, ...); vmkit never lets QEMU guess it');
    const { resolve } = await import('node:path');
    const id = flags.id ?? `hot${Date.now().toString(36)}`;
    const r = await ops.attachDisk(
      name,
      { id, path: resolve(path), format: flags.format as 'raw', ...(flags.readonly === true ? { readonly: true } : {}), ...(flags.serial === undefined ? {} : { serial: flags.serial }), ...(flags.cache === undefined ? {} : { cache: flags.cache as 'none' }) },
      hotplugOpts(flags),
    );
    emit(flags, r, `Disk ${r.device} attached to ${name}${r.port === undefined ? '' : ` (root port pci.${r.port})`}${r.persistent ? '; the definition has it too' : ''}`);
  });
}
