/**
 * Checks before QEMU starts: reads the host topology and this process's limits and capabilities, then
 * reports every tuning problem at once (ConfigError), so a bad pin or an unreachable priority never
 * starts a VM.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, type Problem } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';
import { readHostTopology, type HostTopology } from '../host/topology.js';
import { prlimit } from '../sys/rlimit.js';
import { autoPlace } from './auto-place.js';
import { needsTuning } from './plan.js';
import { tuningWarnings, validateTuning, type HostLimits } from './validate.js';

const CAP_SYS_NICE = 23n;
const CAP_SYS_RESOURCE = 24n;

/** RLIMIT_MEMLOCK/RTPRIO of this process (prlimit) and its effective capabilities (/proc/self/status). */
export async function readHostLimits(opts: { procRoot?: string } = {}): Promise<HostLimits> {
  const status = await readFile(`${opts.procRoot ?? '/proc'}/self/status`, 'utf8');
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0';
  const caps = BigInt(`0x${hex}`);
  return {
    memlockHard: prlimit(0, 'MEMLOCK').hard,
    rtprioSoft: prlimit(0, 'RTPRIO').soft,
    capSysNice: ((caps >> CAP_SYS_NICE) & 1n) === 1n,
    capSysResource: ((caps >> CAP_SYS_RESOURCE) & 1n) === 1n,
  };
}

/**
 * Throws ConfigError listing every problem of `spec.tuning` on this host (offline or missing CPUs, priority
 * ranges, permissions for real-time scheduling and memlock, automatic placement that cannot fit). Returns
 * the topology it read, for planTuning() later. Does nothing (no I/O) when the spec needs no tuning.
 * `onWarning` receives what will be done differently from what the definition implies (isolation that
 * qemu-launcher's vcpu_pinning implies, left out on a host it would leave without a CPU).
 */
export async function checkTuning(
  spec: DomainSpec,
  opts: { sysRoot?: string; exclude?: number[]; limits?: HostLimits; topology?: HostTopology; onWarning?: (warning: Problem) => void } = {},
): Promise<HostTopology | undefined> {
  if (!needsTuning(spec)) return undefined;
  const topo = opts.topology ?? (await readHostTopology(opts.sysRoot === undefined ? {} : { sysRoot: opts.sysRoot }));
  const limits = opts.limits ?? (await readHostLimits());
  const problems = validateTuning(spec, topo, { limits });
  let vcpuPins = spec.tuning.vcpuPins;
  if (problems.length === 0 && spec.tuning.autoPin) {
    try {
      vcpuPins = autoPlace(spec.cpu, topo, opts.exclude === undefined ? {} : { exclude: opts.exclude });
      if (spec.tuning.isolate) problems.push(...validateTuning(spec, topo, { vcpuPins }).filter((p) => p.path === 'tuning.isolate'));
    } catch (e) {
      problems.push({ path: 'tuning.autoPin', message: (e as Error).message });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  for (const w of tuningWarnings(spec, topo, vcpuPins)) opts.onWarning?.(w);
  return topo;
}
