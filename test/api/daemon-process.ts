/**
 * A `vmkit daemon` child process for tests: started through the CLI in a session of its own (as systemd
 * would), stopped or SIGKILLed on demand.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../helpers/guest.js';

export interface DaemonProc {
  readonly pid: number;
  readonly socket: string;
  readonly root: string;
  /** The daemon's stderr so far. */
  stderr(): string;
  /** True once the process has exited. */
  exited(): boolean;
  /** The daemon's ready line (what it adopted, what died). */
  readonly ready: { adopted: string[]; diedUnmonitored: string[]; killed: string[] };
  /** SIGTERM and wait: VMs keep running. Resolves with the exit status. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
}

/**
 * A fresh base directory for a daemon's socket and root. A daemon running as root runs QEMU as vmkit-qemu,
 * which must be able to pass through it to its run directory: mode 0711 (enter, not list).
 */
export async function daemonBase(prefix: string): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), prefix));
  await chmod(base, 0o711);
  return base;
}

export async function spawnDaemon(socket: string, root: string, args: string[] = [], timeoutMs = 30_000): Promise<DaemonProc> {
  const child = spawn(process.execPath, [join(REPO, 'bin/vmkit'), 'daemon', '--socket', socket, '--root', root, '--json', ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const ready = await new Promise<DaemonProc['ready'] & { pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vmkit daemon not ready within ${timeoutMs} ms:\n${out}\n${err}`)), timeoutMs);
    const check = (): void => {
      if (!/^\}$/m.test(out)) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve(JSON.parse(out) as DaemonProc['ready'] & { pid: number });
    };
    child.stdout.on('data', check);
    void done.then((code) => {
      clearTimeout(timer);
      reject(new Error(`vmkit daemon exited with ${String(code)} before it was ready:\n${out}\n${err}`));
    });
  });
  return {
    pid: ready.pid,
    socket,
    root,
    ready,
    stderr: () => err,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      child.kill('SIGTERM');
      return done;
    },
    async kill9() {
      child.kill('SIGKILL');
      await done;
    },
  };
}
