/**
 * A real paused QEMU (TCG, -S) for tuning tests, with a minimal inline QMP exchange over node:net (the
 * project's QMP client is tested on its own). Gives the process id and its vCPU/iothread thread ids.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQemuThreads, readThreadIds } from '../../src/tuning/threads.js';
import type { QemuThreads } from '../../src/tuning/plan.js';

export interface TestQemu {
  readonly pid: number;
  readonly threads: QemuThreads;
  /** tid -> comm (`CPU 0/TCG`, `IO io0`, ...), from debug-threads=on */
  readonly comm: ReadonlyMap<number, string>;
  stop(): Promise<void>;
}

/** Sends each command in turn after qmp_capabilities; returns their `return` values. */
async function qmp(socket: string, commands: readonly string[]): Promise<unknown[]> {
  const conn = createConnection(socket);
  conn.setEncoding('utf8');
  const lines: unknown[] = [];
  let buf = '';
  let wake: (() => void) | undefined;
  conn.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line !== '') lines.push(JSON.parse(line));
    }
    wake?.();
  });
  const deadline = Date.now() + 10_000;
  const next = async (): Promise<Record<string, unknown>> => {
    for (;;) {
      const msg = lines.shift() as Record<string, unknown> | undefined;
      if (msg !== undefined && !('event' in msg)) return msg;
      if (msg !== undefined) continue;
      if (Date.now() > deadline) throw new Error('QMP timeout');
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
  };
  try {
    await once(conn, 'connect');
    const greeting = await next();
    if (!('QMP' in greeting)) throw new Error(`unexpected QMP greeting ${JSON.stringify(greeting)}`);
    const results: unknown[] = [];
    for (const cmd of ['qmp_capabilities', ...commands]) {
      conn.write(`${JSON.stringify({ execute: cmd })}\n`);
      const reply = await next();
      if (!('return' in reply)) throw new Error(`QMP ${cmd} failed: ${JSON.stringify(reply)}`);
      results.push(reply['return']);
    }
    return results.slice(1);
  } finally {
    conn.destroy();
  }
}

export async function startQemu(opts: { smp: number; iothreads?: readonly string[] } = { smp: 2 }): Promise<TestQemu> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-tuning-'));
  const socket = join(dir, 'q.sock');
  const args = ['-machine', 'q35,accel=tcg', '-S', '-smp', String(opts.smp), '-name', 'guest=t,debug-threads=on'];
  for (const id of opts.iothreads ?? ['io0']) args.push('-object', `iothread,id=${id}`);
  args.push('-nodefaults', '-display', 'none', '-qmp', `unix:${socket},server=on,wait=off`);
  const child: ChildProcess = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await once(child, 'spawn');
    const deadline = Date.now() + 10_000;
    let replies: unknown[];
    for (;;) {
      if (child.exitCode !== null) throw new Error(`QEMU exited ${child.exitCode}: ${stderr}`);
      // The socket file appears at bind(), a moment before listen(): retry refused connections.
      const ready = await stat(socket).then(() => true, () => false);
      const got = ready ? await qmp(socket, ['query-cpus-fast', 'query-iothreads']).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') return undefined;
        throw e;
      }) : undefined;
      if (got !== undefined) {
        replies = got;
        break;
      }
      if (Date.now() > deadline) throw new Error(`QEMU's QMP socket ${socket} did not answer: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const [cpus, ios] = replies;
    const pid = child.pid!;
    const threads = parseQemuThreads(cpus, ios, await readThreadIds(pid));
    const comm = new Map<number, string>();
    for (const tid of await readdir(`/proc/${pid}/task`)) {
      comm.set(Number(tid), (await readFile(`/proc/${pid}/task/${tid}/comm`, 'utf8')).trim());
    }
    return { pid, threads, comm, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Cpus_allowed_list of one thread. */
export async function allowedCpus(pid: number, tid: number): Promise<string> {
  const text = await readFile(`/proc/${pid}/task/${tid}/status`, 'utf8');
  return /^Cpus_allowed_list:\s*(.*)$/m.exec(text)?.[1] ?? '?';
}

/** policy and prio of one thread from /proc/<pid>/task/<tid>/sched. */
export async function threadSched(pid: number, tid: number): Promise<{ policy: number; prio: number }> {
  const text = await readFile(`/proc/${pid}/task/${tid}/sched`, 'utf8');
  return { policy: Number(/^policy\s*:\s*(\d+)$/m.exec(text)?.[1]), prio: Number(/^prio\s*:\s*(\d+)$/m.exec(text)?.[1]) };
}

/** `Max locked memory` soft and hard from /proc/<pid>/limits. */
export async function memlockOf(pid: number): Promise<[string, string]> {
  const m = /^Max locked memory\s+(\S+)\s+(\S+)/m.exec(await readFile(`/proc/${pid}/limits`, 'utf8'));
  return [m?.[1] ?? '?', m?.[2] ?? '?'];
}
