/** vmkit's direct syscall layer (koffi bindings): affinity, scheduler, resource limits. Linux only. */
export { schedSetaffinity, schedGetaffinity, schedSetscheduler, schedGetscheduler, SCHED_POLICY } from './sched.js';
export type { KernelPolicy, SchedState } from './sched.js';
export { prlimit, withRlimit, RLIMIT } from './rlimit.js';
export type { Rlimit, RlimValue, RlimitResource } from './rlimit.js';
export { errnoName, errnoOf, syscallError } from './errno.js';
export type { SysContext } from './errno.js';
