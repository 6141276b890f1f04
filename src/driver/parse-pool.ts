/**
 * Parses definitions on worker threads: a 16-disk definition costs a couple of milliseconds of CPU, and a
 * burst of defines must neither stall the daemon's event loop nor leave the other cores idle. Each request
 * goes to the least busy worker; the spec comes back by structured clone and is frozen again.
 */
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { deepFreeze } from '../config/deep-freeze.js';
import { ConfigError, VmkitError, type ErrorCode, type Problem } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';

interface Slot {
  readonly worker: Worker;
  busy: number;
}

type Reply = { id: number; spec: DomainSpec } | { id: number; error: { code: ErrorCode; message: string; details: Record<string, unknown> } };

export class ParsePool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, { resolve: (s: DomainSpec) => void; reject: (e: Error) => void; slot: Slot }>();
  private nextId = 0;
  private closed = false;

  constructor(readonly size: number = Math.max(1, Math.min(4, cpus().length))) {}

  parse(text: string, opts: { file?: string; baseDir: string }): Promise<DomainSpec> {
    if (this.closed) return Promise.reject(new VmkitError('InvalidState', 'The definition parser pool is closed'));
    const slot = this.pick();
    const id = ++this.nextId;
    this.busy(slot, +1);
    return new Promise<DomainSpec>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ id, text, ...(opts.file === undefined ? {} : { file: opts.file }), baseDir: opts.baseDir });
    });
  }

  /** Starts every worker and lets each parse `sample` a few times, so the first real defines run warm. */
  async warm(sample: string, rounds = 20): Promise<void> {
    while (this.slots.length < this.size) this.spawn();
    await Promise.all(
      this.slots.flatMap((slot) =>
        Array.from({ length: rounds }, () => {
          const id = ++this.nextId;
          this.busy(slot, +1);
          return new Promise<DomainSpec>((resolve, reject) => {
            this.pending.set(id, { resolve, reject, slot });
            slot.worker.postMessage({ id, text: sample, baseDir: '/' });
          }).catch(() => undefined);
        }),
      ),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
    for (const p of this.pending.values()) p.reject(new VmkitError('Aborted', 'The definition parser pool was closed'));
    this.pending.clear();
  }

  /** A worker with work pending keeps the process alive; an idle one does not. */
  private busy(slot: Slot, delta: number): void {
    slot.busy += delta;
    if (slot.busy === 1 && delta > 0) slot.worker.ref();
    if (slot.busy === 0) slot.worker.unref();
  }

  private pick(): Slot {
    if (this.slots.length < this.size && this.slots.every((s) => s.busy > 0)) return this.spawn();
    let best = this.slots[0] ?? this.spawn();
    for (const s of this.slots) if (s.busy < best.busy) best = s;
    return best;
  }

  private spawn(): Slot {
    // Not the parent's --input-type, --eval and the like: they do not apply to a module file.
    const worker = new Worker(new URL('./parse-thread.js', import.meta.url), { execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')) });
    const slot: Slot = { worker, busy: 0 };
    worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      this.busy(p.slot, -1);
      if ('spec' in m) p.resolve(deepFreeze(m.spec));
      else if (m.error.code === 'InvalidConfig' && Array.isArray(m.error.details.problems)) p.reject(new ConfigError(m.error.details.problems as Problem[]));
      else p.reject(new VmkitError(m.error.code, m.error.message, { details: m.error.details }));
    });
    worker.on('error', (e) => {
      for (const [id, p] of this.pending) {
        if (p.slot !== slot) continue;
        this.pending.delete(id);
        p.reject(new VmkitError('Internal', `A definition parser thread failed: ${e.message}`, { cause: e }));
      }
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
    });
    worker.unref();
    this.slots.push(slot);
    return slot;
  }
}
