/**
 * probeQemu: one QEMU process, one QMP session. QEMU starts paused with no guest
 * (`-S -machine none,accel=kvm:tcg:qtest -nodefaults -no-user-config -display none`) and connects its monitor
 * to a socket vmkit listens on (no polling). The probe's commands are sent pipelined, then `quit`.
 * `qtest` is the last resort: a binary built with KVM only (Debian's qemu-system-x86_64-microvm) cannot start
 * without a usable /dev/kvm, but under qtest it still answers every query (then no accelerator in the caps
 * can run a guest, which validation and `vmkit host validate` say).
 * QEMU is started through `setpriv --pdeathsig KILL` when setpriv exists, so it dies with this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmkitError } from '../../errors.js';
import { QmpListener, type QmpClient } from '../../qmp/index.js';
import { TailBuffer } from '../../util/tail-buffer.js';
import { resolveBinary } from './resolve-binary.js';
import { capsFromReplies, PROBE_COMMANDS } from './parse-replies.js';
import type { QemuCaps } from './types.js';

export const DEFAULT_PROBE_TIMEOUT_MS = 20_000;

export interface ProbeOptions {
  readonly signal?: AbortSignal;
  /** Bound on the whole probe, spawn to exit. Default 20 s. */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Directory for the probe's private socket directory; default os.tmpdir(). */
  readonly tmpDir?: string;
}

/** A probe function: the real one, or a counting/fake one in tests. */
export type ProbeFn = (binary: string, opts: ProbeOptions) => Promise<QemuCaps>;

/** QEMU's arguments for a probe whose monitor connects to `socket`. */
export function probeArgv(socket: string): string[] {
  return [
    '-S',
    '-machine',
    'none,accel=kvm:tcg:qtest',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-chardev',
    `socket,id=vmkit-probe,path=${socket.replaceAll(',', ',,')},server=off`,
    '-mon',
    'chardev=vmkit-probe,mode=control',
  ];
}

/** Probes `binary` (an absolute path). Rejects with QemuFailed, Timeout or Aborted; leaves no process or file behind. */
export async function probeQemu(binary: string, opts: ProbeOptions = {}): Promise<QemuCaps> {
  const t0 = performance.now();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal === undefined ? deadline : AbortSignal.any([opts.signal, deadline]);
  // Every pipelined command listens on this (our own) signal.
  setMaxListeners(PROBE_COMMANDS.length + 8, signal);
  const env = opts.env ?? process.env;
  const [dir, setpriv] = await Promise.all([mkdtemp(join(opts.tmpDir ?? tmpdir(), 'vmkit-probe-')), resolveBinary('setpriv', env)]);
  const socket = join(dir, 'qmp.sock');
  let listener: QmpListener | undefined;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let qmp: QmpClient | undefined;
  const stderr = new TailBuffer(4096);
  try {
    listener = await QmpListener.listen(socket);
    const argv = probeArgv(socket);
    const [file, args] = setpriv === undefined ? [binary, argv] : [setpriv, ['--pdeathsig', 'KILL', '--', binary, ...argv]];
    const proc = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    child = proc;
    proc.stderr?.on('data', (c: Buffer) => stderr.push(c));
    let startError: Error | undefined;
    exited = new Promise<void>((resolve) => {
      proc.once('error', (e) => {
        startError = e;
        resolve();
      });
      proc.once('close', () => resolve());
    });
    let connected = false;
    const failed = exited.then(() => {
      const why = startError?.message ?? (stderr.lines(3).join('; ') || `exit status ${String(proc.exitCode ?? proc.signalCode)}`);
      const when = connected ? 'during the probe' : 'before its QMP greeting';
      throw new VmkitError('QemuFailed', `Cannot probe ${binary}: QEMU exited ${when}: ${why}`, {
        details: { binary, stderr: stderr.lines(10) },
      });
    });
    failed.catch(() => undefined);
    // QEMU connects its monitor before it sets up the accelerator; when that fails it hangs up and exits. Its
    // exit, with its own stderr, is then the error to report, not the closed monitor.
    const orExit = <T>(p: Promise<T>): Promise<T> =>
      Promise.race([
        p.catch(async (e: unknown) => {
          if (signal.aborted || !(await exitsWithin(exited, 2000))) throw e;
          return failed;
        }),
        failed,
      ]);
    qmp = await orExit(listener.accept({ signal, timeoutMs: Infinity, label: `probe of ${binary}` }));
    connected = true;
    await listener.close();
    const client = qmp;
    const replies = await orExit(Promise.all(PROBE_COMMANDS.map((c) => client.execute(c.command, c.args, { signal, timeoutMs: Infinity }))));
    const caps = capsFromReplies(
      binary,
      Object.fromEntries(PROBE_COMMANDS.map((c, i) => [c.key, replies[i]])),
      { at: new Date().toISOString(), ms: 0 },
    );
    // `quit` usually loses its reply to the hang-up; the exit is what counts.
    client.execute('quit', undefined, { timeoutMs: 2000 }).catch(() => undefined);
    await waitExit(proc, exited, 2000);
    return { ...caps, probe: { at: caps.probe.at, ms: Math.round((performance.now() - t0) * 10) / 10 } };
  } catch (e) {
    if (e instanceof VmkitError && (e.code === 'Timeout' || e.code === 'Aborted') && opts.signal?.aborted !== true && deadline.aborted) {
      throw new VmkitError('Timeout', `Probing ${binary} took longer than ${timeoutMs} ms`, { cause: e, details: { binary, stderr: stderr.lines(10) } });
    }
    throw e;
  } finally {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
    await exited;
    await qmp?.close().catch(() => undefined);
    await listener?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** True when `exited` settles within `ms`. */
async function exitsWithin(exited: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const r = await Promise.race([exited.then(() => true), late]);
  clearTimeout(timer);
  return r;
}

/** Waits up to `ms` for the process to exit after `quit`, then kills it. */
async function waitExit(proc: ChildProcess, exited: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      proc.kill('SIGKILL');
      resolve();
    }, ms);
  });
  await Promise.race([exited, late]);
  clearTimeout(timer);
  await exited;
}
