/** `vmkit setmem NAME SIZE`: how much of the domain's virtio-mem (hot-pluggable) memory the guest should have plugged. */
import { parseSize } from '../../config/size.js';
import { VmkitError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import { emit, hotplugOpts, withOps, type OpsFlags } from './vmops-common.js';

export function setmemCommand(name: string, size: string, flags: OpsFlags): Promise<number> {
  return withOps(flags, async (ops) => {
    let bytes: number;
    try {
      bytes = parseSize(size, 'M');
    } catch {
      throw new VmkitError('InvalidArgument', `SIZE must be a size like 512M or 1G (a bare number is MiB), got '${size}'`, { details: { size } });
    }
    if (bytes % (1024 * 1024) !== 0) throw new VmkitError('InvalidArgument', `SIZE must be whole MiB, got '${size}'`, { details: { size } });
    const r = await ops.setMemory(name, bytes / (1024 * 1024), hotplugOpts(flags));
    const head = `${name}: ${r.requestedMiB} of ${r.maxMiB} MiB of hot-pluggable memory requested`;
    emit(flags, r, r.complete ? `${head}; the guest has it (${r.baseMiB + r.pluggedMiB} MiB in all)${r.persistent ? ' (the definition too)' : ''}` : `${head}; the guest has plugged ${r.pluggedMiB} MiB so far`);
    if (!r.complete) {
      process.stderr.write(`vmkit: the guest of ${name} has not plugged the requested memory in time (it has ${r.pluggedMiB} of ${r.requestedMiB} MiB): it may lack the virtio_mem driver or memory hotplug, or still be working on it; 'vmkit setmem' again shows the progress\n`);
      return EXIT.failure;
    }
    return EXIT.ok;
  });
}
