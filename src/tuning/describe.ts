/** Human lines for a TuningPlan (`--debug`, `vmkit argv`), pure. */
import type { TuningPlan } from './plan.js';
import { formatCpuSet } from '../util/cpu-set.js';

function bytes(n: number): string {
  for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit} (${n} bytes)`;
  }
  return `${n} bytes`;
}

/**
 * One line per thread action, then the memlock limit and the isolated CPUs, e.g.
 * `vCPU 0 (tid 4242): cpus 1, sched fifo 10`.
 */
export function describePlan(plan: TuningPlan): string {
  const lines: string[] = [];
  for (const a of plan.threads) {
    const parts: string[] = [];
    if (a.cpus !== undefined) parts.push(`cpus ${formatCpuSet(a.cpus)}`);
    if (a.sched !== undefined) parts.push(`sched ${a.sched.policy}${a.sched.priority === undefined ? '' : ` ${a.sched.priority}`}`);
    const who = a.role === 'emulator' ? a.label : `${a.label} (tid ${a.tid})`;
    lines.push(`${who}: ${parts.join(', ')}`);
  }
  if (plan.rlimitMemlock !== undefined) {
    lines.push(`rlimit memlock: ${plan.rlimitMemlock === 'unlimited' ? 'unlimited' : bytes(plan.rlimitMemlock)}`);
  }
  if (plan.isolate !== undefined) lines.push(`isolate: cpuset cgroup with CPUs ${formatCpuSet(plan.isolate.cpus)}`);
  return lines.length === 0 ? 'no tuning' : lines.join('\n');
}
