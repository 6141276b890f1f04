/**
 * Durable file replacement for the domain store, done by one writer thread per process (see
 * store-writer-thread.ts): concurrent writes are batched, each batch made durable by group commit
 * (syncfs once per file system, before and after the renames), and the event loop does one postMessage
 * per write and one message per batch instead of a dozen thread-pool round trips and two fsyncs per write.
 * If the thread cannot run, writes fall back to writeFileAtomic in this thread (same guarantees).
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { isVmkitError, VmkitError } from '../errors.js';
import { mkdirDurable, writeFileAtomic } from './atomic-file.js';
import type { WriteReply, WriteRequest } from './store-writer-thread.js';

interface Pending {
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  readonly path: string;
  readonly req: WriteRequest;
}

class StoreWriter {
  private worker: Worker | undefined;
  private broken = false;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  /** Starts the thread (the daemon does this at start-up, so the first define does not wait for it). */
  start(): void {
    if (this.worker !== undefined || this.broken) return;
    // Not the parent's --input-type, --eval and the like: they do not apply to a module file.
    const w = new Worker(new URL('./store-writer-thread.js', import.meta.url), { execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')) });
    w.on('message', (replies: WriteReply[]) => {
      for (const r of replies) {
        const p = this.pending.get(r.id);
        if (p === undefined) continue;
        this.pending.delete(r.id);
        if (r.error === undefined) p.resolve();
        else p.reject(new VmkitError('HostError', `Cannot write ${p.path}: ${r.error.message}`, { details: { path: p.path, ...(r.error.code === undefined ? {} : { errno: r.error.code }) } }));
      }
      if (this.pending.size === 0) w.unref();
    });
    const fail = (e: Error): void => {
      // The thread is gone (it could not start, or died): what it had not confirmed is written again here,
      // in the order it was issued (a rewrite of a whole file is harmless), and so is everything after.
      this.broken = true;
      this.worker = undefined;
      const left = [...this.pending.values()].sort((a, b) => a.req.id - b.req.id);
      this.pending.clear();
      void (async () => {
        for (const p of left) {
          const { dir, file, data, mode, mkdir } = p.req;
          await this.fallback(dir, file, data, { mode, mkdir }).then(p.resolve, (err: Error) =>
            p.reject(isVmkitError(err) ? err : new VmkitError('HostError', `Cannot write ${p.path}: ${err.message} (the store writer thread failed: ${e.message})`, { cause: err })),
          );
        }
      })();
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (this.worker === w) fail(new Error(`exited with status ${code}`));
    });
    w.unref();
    this.worker = w;
  }

  /** Replaces `<dir>/<file>` with `data` atomically and durably; `mkdir` creates `dir` first (durably). */
  write(dir: string, file: string, data: string, opts: { mode?: number; mkdir?: boolean } = {}): Promise<void> {
    this.start();
    const w = this.worker;
    if (w === undefined) return this.fallback(dir, file, data, opts);
    const id = ++this.nextId;
    const req: WriteRequest = { id, dir, file, data, mode: opts.mode ?? 0o600, mkdir: opts.mkdir === true };
    return new Promise<void>((resolve, reject) => {
      if (this.pending.size === 0) w.ref();
      this.pending.set(id, { resolve, reject, path: join(dir, file), req });
      w.postMessage(req);
    });
  }

  private async fallback(dir: string, file: string, data: string, opts: { mode?: number; mkdir?: boolean }): Promise<void> {
    if (opts.mkdir === true) await mkdirDurable(dir, 0o700);
    await writeFileAtomic(join(dir, file), data, opts.mode === undefined ? {} : { mode: opts.mode });
  }
}

/** The process's store writer. */
export const storeWriter = new StoreWriter();
