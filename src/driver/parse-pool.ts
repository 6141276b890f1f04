/**
 * Parses definitions on worker threads: a 16-disk definition costs a couple of milliseconds of CPU, and a
 * burst of defines must neither stall the daemon's event loop nor leave the other cores idle. Each request
 * goes to the least busy worker; the spec comes back by structured clone and is frozen again.
 *
 * Each parse is bounded: a worker runs with `resourceLimits`, and one that takes longer than the time limit
 * on one definition (or runs out of memory) is terminated and replaced. That definition is refused with a
 * ConfigError naming the limit (HTTP 422); the definitions queued behind it go to other workers.
 */
import { cpus } from 'node:os';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { deepFreeze } from '../config/deep-freeze.js';
import { ConfigError, VmkitError, type ErrorCode, type Problem } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';

/** Longest a worker may spend on one definition (an ordinary one takes milliseconds). */
export const PARSE_TIME_LIMIT_MS = 10_000;

/** Memory of one worker: far above what the largest definition (4 MiB of text) needs. */
export const PARSE_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 64, stackSizeMb: 4 };

export interface ParsePoolOptions {
  /** Longest one parse may take before its worker is terminated (default PARSE_TIME_LIMIT_MS). */
  readonly timeLimitMs?: number;
  /** Heap and stack limits of each worker (default PARSE_RESOURCE_LIMITS). */
  readonly resourceLimits?: ResourceLimits;
}

interface Job {
  readonly id: number;
  readonly text: string;
  readonly file?: string;
  readonly baseDir: string;
  readonly resolve: (s: DomainSpec) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  /** Jobs posted to the worker, in the order it runs them: the first one is running. */
  readonly queue: Job[];
  /** Bounds the running job. */
  timer: NodeJS.Timeout | undefined;
  /** The worker has loaded and warmed up (the clock of a job starts only then). */
  ready: boolean;
  /** Terminated or failed: takes no more work. */
  dead: boolean;
}

type Reply = { id: number; spec: DomainSpec } | { id: number; error: { code: ErrorCode; message: string; details: Record<string, unknown> } } | { ready: true };

export class ParsePool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;
  private readonly timeLimitMs: number;
  private readonly resourceLimits: ResourceLimits;

  constructor(
    readonly size: number = Math.max(1, Math.min(4, cpus().length)),
    opts: ParsePoolOptions = {},
  ) {
    this.timeLimitMs = opts.timeLimitMs ?? PARSE_TIME_LIMIT_MS;
    this.resourceLimits = opts.resourceLimits ?? PARSE_RESOURCE_LIMITS;
  }

  parse(text: string, opts: { file?: string; baseDir: string }): Promise<DomainSpec> {
    if (this.closed) return Promise.reject(new VmkitError('InvalidState', 'The definition parser pool is closed'));
    return new Promise<DomainSpec>((resolve, reject) => {
      this.post(this.pick(), { id: ++this.nextId, text, ...(opts.file === undefined ? {} : { file: opts.file }), baseDir: opts.baseDir, resolve, reject });
    });
  }

  /** Starts every worker and lets each parse `sample` a few times, so the first real defines run warm. */
  async warm(sample: string, rounds = 20): Promise<void> {
    while (this.slots.length < this.size) this.spawn();
    await Promise.all(
      this.slots.flatMap((slot) =>
        Array.from({ length: rounds }, () =>
          new Promise<DomainSpec>((resolve, reject) => {
            this.post(slot, { id: ++this.nextId, text: sample, baseDir: '/', resolve, reject });
          }).catch(() => undefined),
        ),
      ),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const s of slots) {
      s.dead = true;
      clearTimeout(s.timer);
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const s of slots) for (const job of s.queue.splice(0)) job.reject(new VmkitError('Aborted', 'The definition parser pool was closed'));
  }

  private post(slot: Slot, job: Job): void {
    slot.queue.push(job);
    if (slot.queue.length === 1) {
      slot.worker.ref(); // a worker with work pending keeps the process alive; an idle one does not
      this.arm(slot);
    }
    slot.worker.postMessage({ id: job.id, text: job.text, ...(job.file === undefined ? {} : { file: job.file }), baseDir: job.baseDir });
  }

  /** Starts the clock of the job the worker is running now (once the worker is ready). */
  private arm(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.timer = undefined;
    if (slot.queue.length === 0 || !slot.ready) return;
    slot.timer = setTimeout(() => this.fail(slot, 'time'), this.timeLimitMs);
    slot.timer.unref();
  }

  private settle(slot: Slot, m: Reply): void {
    if ('ready' in m) {
      slot.ready = true;
      this.arm(slot);
      return;
    }
    const i = slot.queue.findIndex((j) => j.id === m.id);
    if (i < 0) return;
    const [job] = slot.queue.splice(i, 1) as [Job];
    if (i === 0) this.arm(slot);
    if (slot.queue.length === 0) slot.worker.unref();
    if ('spec' in m) job.resolve(deepFreeze(m.spec));
    else if (m.error.code === 'InvalidConfig' && Array.isArray(m.error.details.problems)) job.reject(new ConfigError(m.error.details.problems as Problem[]));
    else job.reject(new VmkitError(m.error.code, m.error.message, { details: m.error.details }));
  }

  /**
   * The worker went past a limit on the job it is running (or died): that job is refused, the worker is
   * terminated, and the jobs queued behind it go to other workers.
   */
  private fail(slot: Slot, why: 'time' | 'memory' | 'error', error?: Error): void {
    if (slot.dead) return;
    slot.dead = true;
    clearTimeout(slot.timer);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate();
    const [running, ...queued] = slot.queue.splice(0);
    if (running !== undefined) running.reject(this.limitError(running, why, error));
    for (const job of queued) {
      if (this.closed) job.reject(new VmkitError('Aborted', 'The definition parser pool was closed'));
      else this.post(this.pick(), job);
    }
  }

  private limitError(job: Job, why: 'time' | 'memory' | 'error', error: Error | undefined): VmkitError {
    if (why === 'error') return new VmkitError('Internal', `A definition parser thread failed: ${error?.message ?? 'it exited'}`, { cause: error });
    const what =
      why === 'time'
        ? `Reading the definition took longer than ${this.timeLimitMs} ms, the most one definition may take`
        : `Reading the definition needed more than the ${this.resourceLimits.maxOldGenerationSizeMb ?? '?'} MiB of memory one definition may use`;
    return new ConfigError([{ ...(job.file === undefined ? {} : { file: job.file }), path: '', message: `${what}; it is too large or too complex: split it or make it smaller` }]);
  }

  private pick(): Slot {
    if (this.slots.length < this.size && this.slots.every((s) => s.queue.length > 0)) return this.spawn();
    let best = this.slots[0] ?? this.spawn();
    for (const s of this.slots) if (s.queue.length < best.queue.length) best = s;
    return best;
  }

  private spawn(): Slot {
    // Not the parent's --input-type, --eval and the like: they do not apply to a module file.
    const worker = new Worker(new URL('./parse-thread.js', import.meta.url), {
      execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
      resourceLimits: this.resourceLimits,
    });
    const slot: Slot = { worker, queue: [], timer: undefined, ready: false, dead: false };
    worker.on('message', (m: Reply) => this.settle(slot, m));
    worker.on('error', (e: Error & { code?: string }) => this.fail(slot, e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'error', e));
    worker.on('exit', () => this.fail(slot, 'error'));
    worker.unref();
    this.slots.push(slot);
    return slot;
  }
}
