/**
 * Applies a TuningPlan to a running (paused, -S) QEMU: memlock limit on the process, cpuset isolation,
 * then per-thread CPU affinity and scheduler, all by direct syscalls and cgroup file writes: no process is
 * forked. Any failure stops, undoes what was done and throws an error naming the thread and the errno.
 * Undo order: schedulers, cgroups (tasks moved out, groups removed), affinities, memlock.
 */
import { VmkitError } from '../errors.js';
import { errnoOf } from '../sys/errno.js';
import { prlimit, type Rlimit } from '../sys/rlimit.js';
import { schedGetaffinity, schedGetscheduler, schedSetaffinity, schedSetscheduler } from '../sys/sched.js';
import type { CgroupFs } from './cgroup-fs.js';
import { detectCpuset, isolateThreads } from './cgroup.js';
import type { ThreadAction, TuningPlan } from './plan.js';

export interface AppliedTuning {
  /** Restores what applyTuning() changed; threads or a process that have exited are skipped. Idempotent. */
  undo(): Promise<void>;
}

export interface ApplyOptions {
  /** cpuset hierarchy root for isolation; default: found in /proc/self/mountinfo. */
  cgroupRoot?: string;
  /** Name used in the VM's cgroup (`<vmName>@<pid>-<start>`); default `vm`. */
  vmName?: string;
  signal?: AbortSignal;
  /** Injected cgroup file operations (tests). */
  cgroupFs?: CgroupFs;
  /** Where /proc is (tests); default `/proc`. */
  procRoot?: string;
}

type Step = () => void | Promise<void>;

/**
 * The limit to set for `memlock`: `unlimited` sets soft and hard; a size sets the soft limit and raises
 * the hard limit only when it is lower, so that undo can restore it without CAP_SYS_RESOURCE.
 */
export function memlockLimit(memlock: 'unlimited' | number, current: Rlimit): Rlimit {
  if (memlock === 'unlimited') return { soft: 'unlimited', hard: 'unlimited' };
  return { soft: memlock, hard: current.hard === 'unlimited' || current.hard >= memlock ? current.hard : memlock };
}

function who(a: ThreadAction): string {
  return a.role === 'emulator' ? a.label : `${a.label} (tid ${a.tid})`;
}

function checkAbort(signal: AbortSignal | undefined, done: string): void {
  if (signal?.aborted === true) {
    throw new VmkitError('Aborted', `Tuning was cancelled${done === '' ? '' : ` after ${done}`}; what was applied has been undone`, {
      cause: signal.reason,
    });
  }
}

/** Runs undo steps in order; ESRCH (the thread or process is gone) counts as done. */
async function runUndo(steps: readonly Step[]): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      if (errnoOf(e) !== 'ESRCH') errors.push(e);
    }
  }
  return errors;
}

export async function applyTuning(pid: number, plan: TuningPlan, opts: ApplyOptions = {}): Promise<AppliedTuning> {
  const { signal } = opts;
  checkAbort(signal, '');
  const cgOpts = {
    ...(opts.cgroupFs === undefined ? {} : { fs: opts.cgroupFs }),
    ...(opts.procRoot === undefined ? {} : { procRoot: opts.procRoot }),
  };
  // Found before anything changes, so a missing hierarchy fails with nothing to undo.
  const hierarchy = plan.isolate === undefined ? undefined : await detectCpuset({ ...cgOpts, ...(opts.cgroupRoot === undefined ? {} : { cgroupRoot: opts.cgroupRoot }) });

  const undoSched: Step[] = [];
  const undoCgroup: Step[] = [];
  const undoAffinity: Step[] = [];
  const undoRlimit: Step[] = [];
  const undoAll = async (): Promise<unknown[]> => runUndo([...undoSched].reverse().concat(undoCgroup, [...undoAffinity].reverse(), undoRlimit));

  let done = '';
  try {
    // Snapshot first: isolation moves threads between cpusets, which resets their affinity.
    const skip = new Set<number>();
    for (const a of plan.threads) {
      const ctx = { what: who(a) };
      try {
        if (a.cpus !== undefined || plan.isolate !== undefined) {
          const old = schedGetaffinity(a.tid, ctx);
          undoAffinity.push(() => schedSetaffinity(a.tid, old, ctx));
        }
        if (a.sched !== undefined) {
          const old = schedGetscheduler(a.tid, ctx);
          undoSched.push(() => schedSetscheduler(a.tid, old.policy, old.priority, ctx));
        }
      } catch (e) {
        // Emulator threads include short-lived workers: one that ended needs no tuning.
        if (a.role === 'emulator' && errnoOf(e) === 'ESRCH') skip.add(a.tid);
        else throw e;
      }
    }
    if (plan.rlimitMemlock !== undefined) {
      const ctx = { what: `QEMU (pid ${pid})` };
      const old: Rlimit = prlimit(pid, 'MEMLOCK', undefined, ctx);
      prlimit(pid, 'MEMLOCK', memlockLimit(plan.rlimitMemlock, old), ctx);
      undoRlimit.push(() => void prlimit(pid, 'MEMLOCK', old, ctx));
      done = 'the memlock limit';
    }
    const live = plan.threads.filter((a) => !skip.has(a.tid));
    if (plan.isolate !== undefined && hierarchy !== undefined) {
      checkAbort(signal, done);
      const group = await isolateThreads(hierarchy, { vmName: opts.vmName ?? 'vm', pid, cpus: plan.isolate.cpus, threads: live }, cgOpts);
      undoCgroup.push(() => group.undo());
      done = 'cgroup isolation';
    }
    for (const a of live) {
      checkAbort(signal, done);
      const ctx = { what: who(a) };
      try {
        if (a.cpus !== undefined) schedSetaffinity(a.tid, a.cpus, ctx);
        if (a.sched !== undefined) schedSetscheduler(a.tid, a.sched.policy, a.sched.priority ?? 0, ctx);
      } catch (e) {
        if (a.role === 'emulator' && errnoOf(e) === 'ESRCH') continue;
        throw e;
      }
      done = who(a);
    }
  } catch (e) {
    const undoErrors = await undoAll();
    if (undoErrors.length > 0 && e instanceof VmkitError) {
      throw new VmkitError(e.code, `${e.message}; undoing the rest also failed: ${undoErrors.map((u) => (u as Error).message).join('; ')}`, {
        cause: e,
        details: { ...e.details, undoErrors: undoErrors.map((u) => (u as Error).message) },
      });
    }
    throw e;
  }

  let undone: Promise<void> | undefined;
  return {
    undo: () =>
      (undone ??= undoAll().then((errors) => {
        if (errors.length > 0) {
          throw new VmkitError('HostError', `Cannot fully undo the tuning of QEMU pid ${pid}: ${errors.map((u) => (u as Error).message).join('; ')}`, {
            details: { errors: errors.map((u) => (u as Error).message) },
          });
        }
      })),
  };
}
