/** `vmkit detach-nic NAME ID`: unplug a NIC (waits for the guest to let go, --timeout SECONDS). */
import { emit, hotplugOpts, withOps, type OpsFlags } from './vmops-common.js';

export function detachNicCommand(name: string, id: string, flags: OpsFlags): Promise<number> {
  return withOps(flags, async (ops) => {
    const r = await ops.detachNic(name, id, hotplugOpts(flags));
    emit(flags, r, `NIC ${id} detached from ${name}${r.persistent ? ' and its definition' : ''}`);
  });
}
