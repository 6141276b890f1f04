/** `vmkit detach-disk NAME ID`: unplug a disk (waits for the guest to let go, --timeout SECONDS). */
import { emit, hotplugOpts, withOps, type OpsFlags } from './vmops-common.js';

export function detachDiskCommand(name: string, id: string, flags: OpsFlags): Promise<number> {
  return withOps(flags, async (ops) => {
    const r = await ops.detachDisk(name, id, hotplugOpts(flags));
    emit(flags, r, `Disk ${id} detached from ${name}${r.persistent ? ' and its definition' : ''}`);
  });
}
