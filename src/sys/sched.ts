/**
 * Per-thread CPU affinity and scheduling policy through sched_setaffinity(2) / sched_setscheduler(2):
 * direct calls, no fork/exec of taskset or chrt. On Linux these take a thread id (tid); 0 means the
 * calling thread.
 */
import { VmkitError } from '../errors.js';
import { libc } from './libc.js';
import { syscallError, type SysContext } from './errno.js';

/** Linux policy numbers (include/uapi/linux/sched.h). */
export const SCHED_POLICY = Object.freeze({ other: 0, fifo: 1, rr: 2, batch: 3, idle: 5, deadline: 6 } as const);
export type KernelPolicy = keyof typeof SCHED_POLICY;
/** sched_getscheduler() ORs this into the policy of a thread set with SCHED_RESET_ON_FORK. */
const SCHED_RESET_ON_FORK = 0x40000000;

/** 1024 CPUs, glibc's CPU_SETSIZE; grown when the kernel has more (EINVAL on get). */
let maskBytes = 128;
const MAX_MASK_BYTES = 8192; // 65536 CPUs

function describe(tid: number, ctx: SysContext | undefined): string {
  return ctx?.what ?? `tid ${tid}`;
}

function encodeMask(cpus: readonly number[], size: number): Uint8Array {
  const mask = new Uint8Array(size);
  for (const cpu of cpus) {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= size * 8) {
      throw new VmkitError('InvalidArgument', `Cannot build a CPU mask with CPU ${cpu}: expected 0..${size * 8 - 1}`);
    }
    mask[cpu >> 3]! |= 1 << (cpu & 7);
  }
  return mask;
}

function decodeMask(mask: Uint8Array): number[] {
  const cpus: number[] = [];
  for (let i = 0; i < mask.length; i++) {
    const byte = mask[i]!;
    if (byte === 0) continue;
    for (let bit = 0; bit < 8; bit++) if ((byte & (1 << bit)) !== 0) cpus.push(i * 8 + bit);
  }
  return cpus;
}

/** Restricts thread `tid` to `cpus` (must be non-empty). */
export function schedSetaffinity(tid: number, cpus: readonly number[], ctx?: SysContext): void {
  if (cpus.length === 0) {
    throw new VmkitError('InvalidArgument', `Cannot set the CPU affinity of ${describe(tid, ctx)} to an empty CPU set`);
  }
  const max = Math.max(...cpus);
  const size = Math.max(maskBytes, Math.ceil((max + 1) / 64) * 8);
  const c = libc();
  if (c.sched_setaffinity(tid, size, encodeMask(cpus, size)) !== 0) {
    throw syscallError('sched_setaffinity', `set the CPU affinity to ${cpus.join(',')}`, describe(tid, ctx), c.errno());
  }
}

/** The CPUs thread `tid` may run on, ascending. */
export function schedGetaffinity(tid: number, ctx?: SysContext): number[] {
  const c = libc();
  for (;;) {
    const mask = new Uint8Array(maskBytes);
    if (c.sched_getaffinity(tid, maskBytes, mask) === 0) return decodeMask(mask);
    const errno = c.errno();
    // EINVAL: the kernel's cpumask is larger than ours; double and retry.
    if (errno === 22 /* EINVAL */ && maskBytes < MAX_MASK_BYTES) {
      maskBytes *= 2;
      continue;
    }
    throw syscallError('sched_getaffinity', 'read the CPU affinity', describe(tid, ctx), errno);
  }
}

export interface SchedState {
  readonly policy: KernelPolicy;
  /** Real-time priority (1..99) for fifo/rr, 0 otherwise. */
  readonly priority: number;
  /** SCHED_RESET_ON_FORK was set. */
  readonly resetOnFork: boolean;
}

/**
 * Sets the policy of thread `tid`. `priority` must be 1..99 for fifo/rr and 0 (or absent) otherwise.
 * `deadline` needs sched_setattr() and is not supported: InvalidArgument.
 */
export function schedSetscheduler(tid: number, policy: KernelPolicy, priority = 0, ctx?: SysContext): void {
  if (policy === 'deadline') {
    throw new VmkitError('InvalidArgument', `Cannot set SCHED_DEADLINE on ${describe(tid, ctx)}: it needs runtime/deadline/period parameters, which vmkit does not support`);
  }
  const param = new Uint8Array(4);
  new DataView(param.buffer).setInt32(0, priority, true);
  const c = libc();
  if (c.sched_setscheduler(tid, SCHED_POLICY[policy], param) !== 0) {
    const prio = policy === 'fifo' || policy === 'rr' ? ` priority ${priority}` : '';
    throw syscallError('sched_setscheduler', `set the scheduler to ${policy}${prio}`, describe(tid, ctx), c.errno());
  }
}

/** Policy and priority of thread `tid`. */
export function schedGetscheduler(tid: number, ctx?: SysContext): SchedState {
  const c = libc();
  const raw = c.sched_getscheduler(tid);
  if (raw < 0) throw syscallError('sched_getscheduler', 'read the scheduler', describe(tid, ctx), c.errno());
  const param = new Uint8Array(4);
  if (c.sched_getparam(tid, param) !== 0) {
    throw syscallError('sched_getparam', 'read the scheduler priority', describe(tid, ctx), c.errno());
  }
  const num = raw & ~SCHED_RESET_ON_FORK;
  const policy = (Object.keys(SCHED_POLICY) as KernelPolicy[]).find((k) => SCHED_POLICY[k] === num);
  if (policy === undefined) {
    throw new VmkitError('HostError', `Cannot read the scheduler of ${describe(tid, ctx)}: unknown policy number ${num}`);
  }
  return { policy, priority: new DataView(param.buffer).getInt32(0, true), resetOnFork: (raw & SCHED_RESET_ON_FORK) !== 0 };
}
