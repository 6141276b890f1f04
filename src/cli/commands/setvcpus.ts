/** `vmkit setvcpus NAME COUNT`: hot-plug (or unplug) vCPUs, up to cpu.max_vcpus. */
import { VmkitError } from '../../errors.js';
import { emit, hotplugOpts, withOps, type OpsFlags } from './vmops-common.js';

export function setvcpusCommand(name: string, count: string, flags: OpsFlags): Promise<number> {
  return withOps(flags, async (ops) => {
    const n = Number(count);
    if (!Number.isInteger(n) || n < 1) throw new VmkitError('InvalidArgument', `COUNT must be a whole number of vCPUs >= 1, got '${count}'`, { details: { count } });
    const r = await ops.setVcpus(name, n, hotplugOpts(flags));
    emit(flags, r, `${name} has ${r.vcpus ?? n} vCPUs${r.persistent ? ' (the definition too)' : ''}`);
  });
}
