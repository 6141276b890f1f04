/**
 * Daemon mode starts QEMU from one worker thread (spawn-thread.ts): Node's spawn() blocks its thread until
 * the child has exec'd, and with hundreds of QEMUs starting on a busy host that wait is long. The worker
 * absorbs it; the daemon's event loop only exchanges messages. The worker stays the parent (it reaps QEMU
 * and reports the exit), and signals go through it, so a pid is never signalled after it was reaped.
 */
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { VmkitError } from '../errors.js';
import type { SpawnedChild, Spawner } from '../process/qemu-process.js';

type Out =
  | { type: 'spawned'; id: number; pid: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'exit'; pid: number; code: number | null; signal: NodeJS.Signals | null };

let worker: Worker | undefined;
/** The process's nice value before anyone raised the main thread's priority (QEMU gets this one). */
const baseNiceness = getPriority(0);
let nextId = 0;
const pending = new Map<number, { resolve: (pid: number) => void; reject: (e: Error) => void; file: string }>();
const exits = new Map<number, (r: { code: number | null; signal: NodeJS.Signals | null }) => void>();

function thread(): Worker {
  if (worker !== undefined) return worker;
  const w = new Worker(new URL('./spawn-thread.js', import.meta.url), { workerData: { niceness: baseNiceness } });
  w.on('message', (m: Out) => {
    if (m.type === 'exit') {
      exits.get(m.pid)?.({ code: m.code, signal: m.signal });
      exits.delete(m.pid);
      return;
    }
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (p === undefined) return;
    if (m.type === 'spawned') p.resolve(m.pid);
    else p.reject(new VmkitError('QemuFailed', `Cannot start ${p.file}: ${m.message}`, { details: { file: p.file } }));
  });
  w.on('error', (e) => {
    for (const p of pending.values()) p.reject(new VmkitError('Internal', `The spawner thread failed: ${e.message}`, { cause: e }));
    pending.clear();
    worker = undefined;
  });
  w.unref(); // never keeps the process alive by itself (after the listeners, which would ref it again)
  worker = w;
  return w;
}

/** A Spawner that forks and execs on the worker thread. */
export const threadSpawner: Spawner = async (cmd, opts) => {
  const w = thread();
  const id = ++nextId;
  if (pending.size === 0) w.ref(); // a spawn in flight keeps the process alive
  const pid = await new Promise<number>((resolve, reject) => {
    pending.set(id, { resolve, reject, file: cmd.file });
    w.postMessage({ type: 'spawn', id, file: cmd.file, args: cmd.args, env: { ...opts.env }, logFile: opts.logFile, detached: opts.detached });
  }).finally(() => {
    if (pending.size === 0) w.unref();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => exits.set(pid, resolve));
  const child: SpawnedChild = {
    pid,
    exited,
    kill: (signal) => w.postMessage({ type: 'kill', pid, signal }),
  };
  return child;
};
