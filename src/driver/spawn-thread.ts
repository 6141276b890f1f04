/**
 * The body of the spawner worker thread (see spawner.ts): it forks and execs QEMU so that the daemon's
 * event loop never waits for a fork (which, on a busy host, waits until the child gets a CPU to exec).
 * Messages in: {type:'spawn', id, file, args, env, logFile, detached} and {type:'kill', pid, signal}.
 * Messages out: {type:'spawned', id, pid}, {type:'failed', id, message}, {type:'exit', pid, code, signal}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

interface SpawnRequest {
  readonly type: 'spawn';
  readonly id: number;
  readonly file: string;
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
  readonly detached: boolean;
}

interface KillRequest {
  readonly type: 'kill';
  readonly pid: number;
  readonly signal: NodeJS.Signals;
}

const port = parentPort;

// QEMU inherits this thread's nice value: give it the process's original one even when the daemon's main
// thread runs at a higher priority (a value can always be raised back; only lowering it needs privilege).
const niceness = (workerData as { niceness?: number } | undefined)?.niceness;
if (typeof niceness === 'number' && getPriority(0) !== niceness) {
  try {
    setPriority(0, niceness);
  } catch {
    /* keep the inherited value */
  }
}
const children = new Map<number, ChildProcess>();

async function start(m: SpawnRequest): Promise<void> {
  let fh;
  try {
    fh = await open(m.logFile, 'a', 0o600);
    const child = spawn(m.file, m.args, { env: m.env, detached: m.detached, stdio: ['ignore', fh.fd, fh.fd] });
    if (child.pid === undefined) {
      const message = await new Promise<string>((resolve) => child.once('error', (e) => resolve(e.message)));
      port?.postMessage({ type: 'failed', id: m.id, message });
      return;
    }
    const pid = child.pid;
    children.set(pid, child);
    child.once('exit', (code, signal) => {
      children.delete(pid);
      port?.postMessage({ type: 'exit', pid, code, signal });
    });
    port?.postMessage({ type: 'spawned', id: m.id, pid });
  } catch (e) {
    port?.postMessage({ type: 'failed', id: m.id, message: (e as Error).message });
  } finally {
    await fh?.close(); // the child has its own copies
  }
}

port?.on('message', (m: SpawnRequest | KillRequest) => {
  if (m.type === 'spawn') void start(m);
  else children.get(m.pid)?.kill(m.signal);
});
