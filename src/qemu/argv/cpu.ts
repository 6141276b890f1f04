/** `-cpu` and `-smp`. */

import type { DomainSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';

export function cpuArgs(spec: DomainSpec): string[] {
  const { cpu } = spec;
  // `-cpu` is not QemuOpts: QEMU reads `model[,feature...]`, so the model is passed as written.
  const model = cpu.model === undefined ? [] : ['-cpu', cpu.model];
  const smp = formatOpts(String(cpu.vcpus), [
    ['sockets', cpu.sockets],
    ['cores', cpu.cores],
    ['threads', cpu.threads],
  ]);
  return [...model, '-smp', smp];
}
