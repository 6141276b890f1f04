/** `-cpu <model>[,<feature>=on|off...]` and `-smp <vcpus>[,maxcpus=<max>],sockets=,cores=,threads=`. */

import type { DomainSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';
import { unsupported } from './unsupported.js';

/** QEMU's CPU feature names (`vmx`, `sse4.2`, `3dnowprefetch`, `kvm_pv_eoi`): nothing that could end an option. */
const FEATURE_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export function cpuArgs(spec: DomainSpec): string[] {
  const { cpu } = spec;
  const features: (readonly [string, boolean])[] = (cpu.features ?? []).map((f) => [f.name, f.enabled]);
  if (spec.clock?.kvmclock === false) features.push(['kvmclock', false]);
  features.forEach(([name], i) => {
    if (!FEATURE_NAME.test(name)) unsupported(spec, `cpu.features[${i}]`, 'Not a QEMU CPU feature name (lowercase letters, digits, `_`, `.`, `-`)', JSON.stringify(name));
  });
  if (features.length > 0 && cpu.model === undefined) unsupported(spec, 'cpu.features', 'CPU features need a CPU model (cpu.model)');
  // `-cpu` is not QemuOpts for its first part: QEMU reads `model[,feature=on|off...]`, so the model is passed as written.
  const flags = features.map(([name, on]) => `,${name}=${on ? 'on' : 'off'}`).join('');
  const model = cpu.model === undefined ? [] : ['-cpu', `${cpu.model}${flags}`];
  const smp = formatOpts(String(cpu.vcpus), [
    ['maxcpus', cpu.maxVcpus],
    ['sockets', cpu.sockets],
    ['cores', cpu.cores],
    ['threads', cpu.threads],
  ]);
  return [...model, '-smp', smp];
}
