/** `vmkit attach-nic NAME [--type user|tap] [--mac MAC] [--ifname TAP] [--id ID]`: hot-plug a virtio NIC. */
import { emit, hotplugOpts, withOps, type OpsFlags } from './vmops-common.js';

export interface AttachNicFlags extends OpsFlags {
  readonly id?: string;
  readonly type?: string;
  readonly mac?: string;
  readonly ifname?: string;
}

export function attachNicCommand(name: string, flags: AttachNicFlags): Promise<number> {
  return withOps(flags, async (ops) => {
    const id = flags.id ?? `hot${Date.now().toString(36)}`;
    const r = await ops.attachNic(name, { id, kind: (flags.type ?? 'user') as 'user', ...(flags.mac === undefined ? {} : { mac: flags.mac }), ...(flags.ifname === undefined ? {} : { ifname: flags.ifname }) }, hotplugOpts(flags));
    emit(flags, r, `NIC ${r.device} attached to ${name}${r.port === undefined ? '' : ` (root port pci.${r.port})`}${r.persistent ? '; the definition has it too' : ''}`);
  });
}
