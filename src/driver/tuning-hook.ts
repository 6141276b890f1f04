import type { Problem } from '../errors.js';
import type { HostTopology } from '../host/topology.js';
import type { DomainSpec } from '../model/domain.js';
import type { BeforeCont } from '../process/qemu-process.js';
import { applyTuning, checkTuning, describePlan, parseQemuThreads, planTuning, readThreadIds, type TuningPlan } from '../tuning/index.js';

export interface TuningHooks {
  /** CPUs pinned by other running domains of the same connection (auto placement avoids them). */
  readonly exclude: () => number[];
  /** Called with the plan once it is applied. */
  readonly onPlan?: (plan: TuningPlan, text: string) => void;
  /** What will be done differently from what the definition implies (e.g. isolation the host cannot give). */
  readonly onWarning?: (warning: Problem) => void;
}

/**
 * Tuning for one start: checks every tuning problem before QEMU starts (ConfigError), and returns the step
 * that runs while QEMU is paused: read the vCPU and iothread thread ids (QMP), plan, apply with syscalls,
 * and hand back the undo. Returns undefined when the spec asks for no tuning (no I/O at all then).
 */
export async function prepareTuning(spec: DomainSpec, hooks: TuningHooks): Promise<BeforeCont | undefined> {
  const exclude = hooks.exclude();
  const topo: HostTopology | undefined = await checkTuning(spec, { exclude, ...(hooks.onWarning === undefined ? {} : { onWarning: hooks.onWarning }) });
  if (topo === undefined) return undefined;
  return async ({ pid, qmp }) => {
    const [cpusFast, iothreads, all] = await Promise.all([qmp.execute('query-cpus-fast'), qmp.execute('query-iothreads'), readThreadIds(pid)]);
    const plan = planTuning(spec, parseQemuThreads(cpusFast, iothreads, all), topo, { exclude });
    const applied = await applyTuning(pid, plan, { vmName: spec.name });
    hooks.onPlan?.(plan, describePlan(plan));
    return () => applied.undo();
  };
}

/** Host CPUs a plan pins vCPUs to. */
export function pinnedByPlan(plan: TuningPlan): number[] {
  return [...new Set(plan.threads.filter((t) => t.role === 'vcpu').flatMap((t) => t.cpus ?? []))];
}
