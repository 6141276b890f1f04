/** Test helpers for the QMP tests: private temp dirs, a real QEMU, and a scriptable fake QEMU. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** A fresh 0700 directory, removed after the test. */
export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-qmp-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export const QEMU_BASE = ['-machine', 'none', '-S', '-nodefaults', '-no-user-config', '-display', 'none'];

export interface RunningQemu {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Starts qemu-system-x86_64 with QEMU_BASE + extra; SIGKILLs it (and waits) after the test if still alive. */
export function startQemu(t: TestContext, extra: string[]): RunningQemu {
  const child = spawn('qemu-system-x86_64', [...QEMU_BASE, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    await exited;
  });
  return { child, exited, stderr: () => err };
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const GREETING = {
  QMP: { version: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'fake' }, capabilities: ['oob'] },
};

export interface FakeConn {
  socket: net.Socket;
  /** Every command object received, in order. */
  received: Record<string, unknown>[];
  send(obj: unknown): void;
  /** Resolves with the next command named `name` (already received ones count). */
  nextCommand(name: string): Promise<Record<string, unknown>>;
}

/**
 * Wraps one socket as a fake QEMU: sends the greeting (unless greet is false), answers qmp_capabilities
 * with {} and hands every other command to `onCommand`.
 */
export function fakeQemu(
  socket: net.Socket,
  opts: { greet?: boolean; onCommand?: (cmd: Record<string, unknown>, conn: FakeConn) => void } = {},
): FakeConn {
  const waiters: { name: string; resolve: (c: Record<string, unknown>) => void }[] = [];
  const seen: Record<string, unknown>[] = [];
  const conn: FakeConn = {
    socket,
    received: seen,
    send: (obj) => socket.write(`${JSON.stringify(obj)}\r\n`),
    nextCommand: (name) =>
      new Promise((resolve) => {
        const i = seen.findIndex((c) => c['execute'] === name);
        if (i >= 0) resolve(seen.splice(i, 1)[0] as Record<string, unknown>);
        else waiters.push({ name, resolve });
      }),
  };
  socket.on('error', () => {});
  let buf = '';
  socket.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const cmd = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      buf = buf.slice(nl + 1);
      if (cmd['execute'] === 'qmp_capabilities') {
        conn.send({ return: {}, id: cmd['id'] });
        continue;
      }
      const w = waiters.findIndex((x) => x.name === cmd['execute']);
      if (w >= 0) waiters.splice(w, 1)[0]?.resolve(cmd);
      else seen.push(cmd);
      opts.onCommand?.(cmd, conn);
    }
  });
  if (opts.greet !== false) conn.send(GREETING);
  return conn;
}

/** A fake QEMU QMP server (QEMU-as-server direction) on `path`; closed after the test. */
export async function fakeServer(
  t: TestContext,
  path: string,
  opts: Parameters<typeof fakeQemu>[1] = {},
): Promise<{ server: net.Server; conns: FakeConn[]; nextConn(): Promise<FakeConn> }> {
  const conns: FakeConn[] = [];
  const pending: ((c: FakeConn) => void)[] = [];
  let handed = 0;
  const server = net.createServer((s) => {
    const c = fakeQemu(s, opts);
    conns.push(c);
    const waiter = pending.shift();
    if (waiter !== undefined) {
      handed++;
      waiter(c);
    }
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  t.after(async () => {
    for (const c of conns) c.socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    server,
    conns,
    /** The next connection not yet handed out by nextConn(). */
    nextConn: () =>
      new Promise((resolve) => {
        const c = conns[handed];
        if (c === undefined) pending.push(resolve);
        else {
          handed++;
          resolve(c);
        }
      }),
  };
}

/** Expects `p` to reject with a VmkitError of `code`; returns the error. */
export async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<Error & { code: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { code: string; details: Record<string, unknown> };
    if (err.code !== code) throw new Error(`expected code ${code}, got ${String(err.code)}: ${err.message}`, { cause: e });
    return err;
  }
  throw new Error(`expected a rejection with code ${code}, but it resolved`);
}

/** QEMU's own version, from `qemu-system-x86_64 --version`. */
export async function qemuVersion(): Promise<{ major: number; minor: number; micro: number }> {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) =>
    execFile('qemu-system-x86_64', ['--version'], (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  const m = /version (\d+)\.(\d+)\.(\d+)/.exec(out);
  if (m === null) throw new Error(`cannot read the QEMU version from: ${out}`);
  return { major: Number(m[1]), minor: Number(m[2]), micro: Number(m[3]) };
}

/** Argv that makes QEMU connect to a vmkit QmpListener at `path` (the client direction). */
export function clientMonitorArgs(path: string): string[] {
  return ['-chardev', `socket,id=vmkit-qmp,path=${path},server=off`, '-mon', 'chardev=vmkit-qmp,mode=control'];
}
