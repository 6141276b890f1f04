/**
 * Daemon mode starts QEMU through a spawn server (spawn-server.ts), a small process started once. The
 * daemon itself never forks on the start path: Node's spawn() blocks the forking thread until the child
 * has exec'd, and a fork of a big process copies its page tables while holding its memory map lock, which
 * stalls the event loop's page faults too. The spawn server is QEMU's parent (it reaps QEMU and reports the
 * exit), and signals go through it, so a pid is never signalled after it was reaped. If the server dies,
 * the QEMUs it started are watched through /proc instead (their exit status is then unknown).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { getPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { VmkitError } from '../errors.js';
import { findExecutable } from '../host/path-lookup.js';
import type { SpawnedChild, Spawner } from '../process/qemu-process.js';
import { readProcStat } from '../util/proc.js';

type Out =
  | { type: 'spawned'; id: number; pid: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'exit'; pid: number; code: number | null; signal: NodeJS.Signals | null };

interface Live {
  readonly resolve: (r: { code: number | null; signal: NodeJS.Signals | null }) => void;
  startTime: number | undefined;
}

/** The process's nice value before anyone raised the event-loop thread's priority: QEMU gets this one. */
const baseNiceness = getPriority(0);

let server: ChildProcess | undefined;
let nextId = 0;
const pending = new Map<number, { resolve: (pid: number) => void; reject: (e: Error) => void; file: string }>();
const live = new Map<number, Live>();

async function spawnServer(): Promise<ChildProcess> {
  if (server !== undefined && server.connected) return server;
  const script = fileURLToPath(new URL('./spawn-server.js', import.meta.url));
  const setpriv = await findExecutable('setpriv');
  const argv = [script, String(baseNiceness)];
  // PDEATHSIG: the server dies with the daemon; QEMU does not (it gets no PDEATHSIG of its own).
  // Its own session: the QEMUs it starts share it, so a terminal's signals never reach them, and with
  // scheduler autogroups they compete with the daemon as one group, not as one group each.
  const opts = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] as ('ignore' | 'inherit' | 'ipc')[], detached: true };
  const s =
    setpriv === undefined
      ? spawn(process.execPath, argv, opts)
      : spawn(setpriv, ['--pdeathsig', 'KILL', '--', process.execPath, ...argv], opts);
  s.on('message', (m: Out) => onMessage(m));
  s.once('exit', () => onServerExit(s));
  s.on('error', () => undefined);
  s.unref();
  s.channel?.unref();
  server = s;
  return s;
}

function onMessage(m: Out): void {
  if (m.type === 'exit') {
    live.get(m.pid)?.resolve({ code: m.code, signal: m.signal });
    live.delete(m.pid);
    return;
  }
  const p = pending.get(m.id);
  pending.delete(m.id);
  refresh();
  if (p === undefined) return;
  if (m.type === 'spawned') p.resolve(m.pid);
  else p.reject(new VmkitError('QemuFailed', `Cannot start ${p.file}: ${m.message}`, { details: { file: p.file } }));
}

/** The server died under us: fail what was asked, and watch what it started through /proc. */
function onServerExit(s: ChildProcess): void {
  if (server === s) server = undefined;
  for (const p of pending.values()) p.reject(new VmkitError('QemuFailed', `Cannot start ${p.file}: the spawn server exited`));
  pending.clear();
  for (const [pid, l] of live) void watchProc(pid, l);
}

async function watchProc(pid: number, l: Live): Promise<void> {
  for (;;) {
    const st = await readProcStat(pid);
    if (st === undefined || st.state === 'Z' || st.state === 'X' || (l.startTime !== undefined && st.startTime !== l.startTime)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  live.delete(pid);
  l.resolve({ code: null, signal: null });
}

/** Only requests in flight keep the process alive through the server's channel. */
function refresh(): void {
  const ch = server?.channel;
  if (ch === undefined || ch === null) return;
  if (pending.size > 0) ch.ref();
  else ch.unref();
}

/** A Spawner that starts QEMU from the spawn server. */
export const serverSpawner: Spawner = async (cmd, opts) => {
  const s = await spawnServer();
  const id = ++nextId;
  const pid = await new Promise<number>((resolve, reject) => {
    pending.set(id, { resolve, reject, file: cmd.file });
    refresh();
    s.send({ type: 'spawn', id, file: cmd.file, args: cmd.args, env: { ...opts.env }, logFile: opts.logFile, detached: opts.detached });
  });
  const l: Live = { resolve: () => undefined, startTime: undefined };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    (l as { resolve: Live['resolve'] }).resolve = resolve;
  });
  live.set(pid, l);
  void readProcStat(pid).then((st) => {
    l.startTime = st?.startTime;
  });
  const child: SpawnedChild = {
    pid,
    exited,
    kill: (signal) => {
      if (server?.connected === true) server.send({ type: 'kill', pid, signal });
      else if (live.has(pid)) process.kill(pid, signal);
    },
  };
  return child;
};

/** Starts the spawn server ahead of the first start (daemon start-up). */
export async function warmSpawner(): Promise<void> {
  await spawnServer();
}
