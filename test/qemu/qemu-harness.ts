/**
 * Test-only helpers to run real QEMU paused with a vmkit argv: listen on the QMP and console sockets (QEMU
 * connects to them, `server=off`), speak just enough QMP, and always stop QEMU within a time bound. Kept here
 * on purpose, independent of src/qmp.
 */

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';

import type { DomainSpec } from '../../src/model/domain.js';

export const QEMU = 'qemu-system-x86_64';

export interface QmpLink {
  /** Sends one command and resolves with its reply (`return` or `error` object); events are skipped. */
  command(execute: string, args?: Record<string, unknown>): Promise<Record<string, unknown>>;
  readonly greeting: Record<string, unknown>;
}

export interface PausedRun {
  /** Exit code, or null when killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** Set when the test's QMP session finished (the `session` callback resolved). */
  readonly sessionDone: boolean;
  readonly sessionError?: unknown;
}

/**
 * Starts `qemu-system-x86_64 ...argv` after listening on `qmpSocket` (and `consoleSocket`), runs `session`
 * once QEMU connects and greets, then sends `quit`. QEMU is killed after `timeoutMs` whatever happens.
 */
export async function runPaused(
  argv: readonly string[],
  opts: {
    readonly qmpSocket: string;
    readonly consoleSocket: string;
    readonly timeoutMs: number;
    readonly session?: (qmp: QmpLink) => Promise<void>;
  },
): Promise<PausedRun> {
  mkdirSync(dirname(opts.qmpSocket), { recursive: true });
  mkdirSync(dirname(opts.consoleSocket), { recursive: true });
  const consoleServer = await listen(opts.consoleSocket, (s) => s.resume());
  let onQmp: (s: Socket) => void = () => undefined;
  const qmpConnected = new Promise<Socket>((resolve) => {
    onQmp = resolve;
  });
  const qmpServer = await listen(opts.qmpSocket, (s) => onQmp(s));

  const child = spawn(QEMU, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);

  let sessionDone = false;
  let sessionError: unknown;
  const session = (async () => {
    const socket = await Promise.race([qmpConnected, exited.then(() => undefined)]);
    if (socket === undefined) return;
    try {
      const qmp = await openQmp(socket);
      await qmp.command('qmp_capabilities');
      if (opts.session !== undefined) await opts.session(qmp);
      // QMP commands run only once QEMU's main loop is up, i.e. after every option and device was accepted.
      await qmp.command('query-status');
      sessionDone = true;
      await qmp.command('quit').catch(() => undefined);
    } catch (e) {
      sessionError = e;
      child.kill('SIGKILL');
    } finally {
      socket.destroy();
    }
  })();

  const result = await exited;
  clearTimeout(timer);
  await session;
  qmpServer.close();
  consoleServer.close();
  return { ...result, stderr, sessionDone, ...(sessionError === undefined ? {} : { sessionError }) };
}

function listen(path: string, onConnection: (s: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((s) => {
      // QEMU resets the connection when it exits; the close is what matters, not the error.
      s.on('error', () => undefined);
      onConnection(s);
    });
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

async function openQmp(socket: Socket): Promise<QmpLink> {
  const waiting: ((msg: Record<string, unknown>) => void)[] = [];
  const queued: Record<string, unknown>[] = [];
  let buffer = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line === '') continue;
      const msg = JSON.parse(line) as Record<string, unknown>;
      if ('event' in msg) continue;
      const next = waiting.shift();
      if (next === undefined) queued.push(msg);
      else next(msg);
    }
  });
  socket.on('close', () => {
    closed = true;
    for (const w of waiting.splice(0)) w({ error: { class: 'Closed', desc: 'QMP connection closed' } });
  });
  const nextMessage = (): Promise<Record<string, unknown>> => {
    const q = queued.shift();
    if (q !== undefined) return Promise.resolve(q);
    if (closed) return Promise.resolve({ error: { class: 'Closed', desc: 'QMP connection closed' } });
    return new Promise((resolve) => waiting.push(resolve));
  };
  const greeting = await nextMessage();
  if (!('QMP' in greeting)) throw new Error(`Expected a QMP greeting, got ${JSON.stringify(greeting)}`);
  return {
    greeting,
    async command(execute, args) {
      socket.write(`${JSON.stringify(args === undefined ? { execute } : { execute, arguments: args })}\n`);
      const reply = await nextMessage();
      if ('error' in reply) throw new Error(`QMP ${execute} failed: ${JSON.stringify(reply['error'])}`);
      return reply;
    },
  };
}

/** Creates every file `spec` refers to under a test root: disk images (qemu-img), a fake kernel, initrd, firmware. */
export function createSpecFiles(spec: DomainSpec, extraImages: readonly { path: string; format: 'raw' | 'qcow2' }[] = []): void {
  for (const d of [...spec.disks.map((d) => ({ path: d.path, format: d.format })), ...extraImages]) {
    qemuImgCreate(d.path, d.format);
  }
  const boot = spec.boot;
  if (boot?.kind === 'kernel') {
    writeFile(boot.kernel, fakeBzImage());
    if (boot.initrd !== undefined) writeFile(boot.initrd, Buffer.alloc(4096));
  } else if (boot?.kind === 'firmware' && boot.firmware !== undefined) {
    // QEMU maps a BIOS image whose size is a multiple of 64 KiB; a paused VM never runs it.
    writeFile(boot.firmware, Buffer.alloc(256 * 1024));
  }
}

export function qemuImgCreate(path: string, format: string, size = '1M'): void {
  mkdirSync(dirname(path), { recursive: true });
  const r = spawnSync('qemu-img', ['create', '-q', '-f', format, path, size], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img create -f ${format} ${JSON.stringify(path)} failed: ${r.stderr}`);
}

function writeFile(path: string, data: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/**
 * The smallest file QEMU's x86 Linux loader accepts as a bzImage (boot protocol 2.15 header, 4 setup
 * sectors, a few KiB of "kernel"). Paused VMs never execute it.
 */
export function fakeBzImage(): Buffer {
  const b = Buffer.alloc(16 * 1024);
  b.writeUInt8(4, 0x1f1); // setup_sects
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(0x020f, 0x206); // protocol version
  b.writeUInt8(0x01, 0x211); // loadflags: LOADED_HIGH
  b.writeUInt32LE(0x7fffffff, 0x22c); // initrd_addr_max
  return b;
}
