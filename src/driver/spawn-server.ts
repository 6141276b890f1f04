/**
 * The spawn server: a small process the daemon starts once (see spawner.ts). It forks and execs QEMU so
 * the daemon never forks: a fork of the daemon blocks its event loop until the child execs and, while it
 * copies the daemon's page tables, stalls every page fault of the daemon's threads. This process is small,
 * so its forks are cheap, and nothing waits on it but the message channel.
 * It dies with the daemon (PDEATHSIG); the QEMUs it started do not (their own sessions, no PDEATHSIG).
 * Messages in: {type:'spawn', id, file, args, env, logFile} and {type:'kill', pid, signal}.
 * Messages out: {type:'spawned', id, pid}, {type:'failed', id, message}, {type:'exit', pid, code, signal}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import { getPriority, setPriority } from 'node:os';

interface SpawnRequest {
  readonly type: 'spawn';
  readonly id: number;
  readonly file: string;
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
}

interface KillRequest {
  readonly type: 'kill';
  readonly pid: number;
  readonly signal: NodeJS.Signals;
}

// QEMU inherits this process's nice value: the daemon's own, even when its event loop runs at a higher
// priority (raising a nice value back is always allowed).
const niceness = Number(process.argv[2]);
if (Number.isInteger(niceness) && getPriority(0) !== niceness) {
  try {
    setPriority(0, niceness);
  } catch {
    /* keep the inherited value */
  }
}

const children = new Map<number, ChildProcess>();
const send = (m: object): void => {
  process.send?.(m);
};

async function start(m: SpawnRequest): Promise<void> {
  let fh;
  try {
    fh = await open(m.logFile, 'a', 0o600);
    // No session of its own: this server's session already keeps terminals away, and one session for all
    // QEMUs makes them one scheduler autogroup instead of one each (which would crowd out the daemon).
    const child = spawn(m.file, m.args, { env: m.env, stdio: ['ignore', fh.fd, fh.fd] });
    if (child.pid === undefined) {
      const message = await new Promise<string>((resolve) => child.once('error', (e) => resolve(e.message)));
      send({ type: 'failed', id: m.id, message });
      return;
    }
    const pid = child.pid;
    children.set(pid, child);
    child.once('exit', (code, signal) => {
      children.delete(pid);
      send({ type: 'exit', pid, code, signal });
    });
    send({ type: 'spawned', id: m.id, pid });
  } catch (e) {
    send({ type: 'failed', id: m.id, message: (e as Error).message });
  } finally {
    await fh?.close(); // the child has its own copies
  }
}

process.on('message', (m: SpawnRequest | KillRequest) => {
  if (m.type === 'spawn') void start(m);
  else children.get(m.pid)?.kill(m.signal);
});
// The daemon hung up (it exited): nothing more will be asked; QEMUs keep running.
process.on('disconnect', () => process.exit(0));
