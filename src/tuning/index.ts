/** Thread placement for a running QEMU: plan (pure), preflight checks, apply (syscalls, cgroups). */
export { planTuning, needsTuning, autoPlace, describePlan } from './plan.js';
export type { QemuThreads, ThreadAction, TuningPlan, VcpuPlacement } from './plan.js';
export { validateTuning, pinProblems, pinnedCpus, isolationOf, tuningWarnings } from './validate.js';
export type { HostLimits } from './validate.js';
export { checkTuning, readHostLimits } from './preflight.js';
export { applyTuning } from './apply.js';
export type { AppliedTuning, ApplyOptions } from './apply.js';
export { detectCpuset, isolateThreads, sweepCgroups } from './cgroup.js';
export type { CpusetHierarchy, IsolateRequest, IsolatedGroup } from './cgroup.js';
export { parseQemuThreads, readThreadIds } from './threads.js';
export { parseCpuSet, formatCpuSet } from '../util/cpu-set.js';
