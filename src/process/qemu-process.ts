import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { VmkitError } from '../errors.js';
import type { CapsCache } from '../host/caps/caps-cache.js';
import type { DomainSpec } from '../model/domain.js';
import type { QmpClient, QmpEvent } from '../qmp/index.js';
import { prlimit, withRlimit } from '../sys/rlimit.js';
import { memlockLimit } from '../tuning/apply.js';
import { TailBuffer } from '../util/tail-buffer.js';
import { setBalloonTarget } from './balloon-target.js';
import { classifyExit, type ExitInfo } from './exit-info.js';
import { commandLine, prepareHost, prepareLaunch, type CommandLine, type Prepared } from './launch-phases.js';
import type { ManagedHostdevs } from './managed-hostdevs.js';
import { securePrivateSocket } from './serial-files.js';
import { removeRunDir, type RunDir } from './state-dir.js';
import { queryVnc, type VncAddress } from './vnc.js';

/** What runs between QEMU's start (paused, `-S`) and `cont`: tuning. Returns an undo step. */
export type BeforeCont = (vm: { readonly pid: number; readonly qmp: QmpClient; readonly spec: DomainSpec }) => Promise<(() => Promise<void>) | void>;

export interface LaunchOptions {
  /** Connection root: the run directory is created under `<root>/run`. */
  readonly root: string;
  readonly beforeCont?: BeforeCont;
  /** Leave the guest paused after start (no `cont`). */
  readonly paused?: boolean;
  readonly signal?: AbortSignal;
  /** Bound on the whole start, until `cont` answered. Default 30 s. */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Capabilities cache to check the spec against (default: the shared one, see host-check.ts). */
  readonly caps?: CapsCache;
  /**
   * The account QEMU runs as when the definition names none (a root daemon: `vmkit-qemu`); absent: this
   * process's own.
   */
  readonly defaultUser?: string | number;
  /** The definition's text (and file), to place host problems at file:line:col; read only when there are problems. */
  readonly source?: { readonly text: string; readonly file?: string };
  /**
   * Daemon mode: QEMU must outlive this process. No `--pdeathsig`, and QEMU gets its own session (so a
   * terminal's Ctrl-C or the daemon's process group signals do not reach it). Default false.
   */
  readonly detached?: boolean;
  /** Arguments appended after the generated argv, given the run directory (daemon mode: its own sockets). */
  readonly extraArgs?: (runDir: RunDir) => readonly string[];
  /**
   * Starts the QEMU command elsewhere than on this thread (daemon mode: a worker thread, so that fork and
   * exec never stall this event loop). QEMU's stdout and stderr then go straight to the run directory's log;
   * the stderr tail in errors is read back from it. Not used for specs that need a memlock limit at exec.
   */
  readonly spawner?: Spawner;
}

/** A QEMU started by a Spawner. */
export interface SpawnedChild {
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

export type Spawner = (cmd: { readonly file: string; readonly args: readonly string[] }, opts: { env: NodeJS.ProcessEnv; logFile: string; detached: boolean }) => Promise<SpawnedChild>;

export interface QemuProcessEvents {
  console: [Buffer];
  qmpEvent: [QmpEvent];
  exit: [ExitInfo];
}

/**
 * One running QEMU, a direct child of this process. Started through `setpriv --pdeathsig KILL`, paused,
 * with QMP and the serial console connected to sockets vmkit listens on; `cont` only after `beforeCont`.
 * Its exit is observed by waiting on it (we are its parent), never by polling.
 */
export class QemuProcess extends EventEmitter<QemuProcessEvents> {
  readonly exited: Promise<ExitInfo>;
  private shutdownEvent: { guest: boolean; reason: string } | undefined;
  private powerdownRequested = false;
  private destroyRequested = false;
  private exitInfo: ExitInfo | undefined;
  private consoleSocket: Socket | undefined;
  /** Where the VNC server listens (QMP query-vnc at start), when the spec has a VNC display. */
  vnc: VncAddress | undefined;
  private undoTuning: (() => Promise<void>) | undefined;
  /** managed='yes' host devices bound to vfio-pci for this run, given back in cleanup(). */
  private hostdevs: ManagedHostdevs | undefined;

  private constructor(
    readonly spec: DomainSpec,
    readonly argv: readonly string[],
    readonly runDir: RunDir,
    private readonly child: ChildProcess,
    private readonly stderr: TailBuffer,
    private readonly log: WriteStream,
    private readonly childExit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
    public qmp: QmpClient | undefined,
  ) {
    super();
    this.exited = this.childExit.then(async ({ code, signal }) => {
      const info = classifyExit({
        exitCode: code,
        signal,
        ...(this.shutdownEvent === undefined ? {} : { shutdownEvent: this.shutdownEvent }),
        powerdownRequested: this.powerdownRequested,
        destroyRequested: this.destroyRequested,
        stderrTail: this.stderr.lines(5),
      });
      await this.cleanup();
      this.exitInfo = info;
      this.emit('exit', info);
      return info;
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /**
   * Starts QEMU for `spec` and returns once the guest runs (or is paused, with `paused`), in named steps:
   * prepare (host facts, run directory; launch-phases.ts), command line (built once, checked), host set-up,
   * spawn, connect (QMP, console), finish (beforeCont, balloon target, `cont`). A failure at any step
   * undoes the earlier ones: no process, socket or directory is left.
   */
  static async launch(spec: DomainSpec, opts: LaunchOptions): Promise<QemuProcess> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal === undefined ? deadline : AbortSignal.any([opts.signal, deadline]);
    const timedOut = (e: unknown): unknown =>
      e instanceof VmkitError && (e.code === 'Aborted' || e.code === 'Timeout') && opts.signal?.aborted !== true && deadline.aborted
        ? new VmkitError('Timeout', `QEMU did not become ready within ${timeoutMs} ms`, { cause: e })
        : e;
    let prepared: Prepared;
    try {
      prepared = await prepareLaunch(spec, opts, signal);
    } catch (e) {
      throw timedOut(e);
    }
    let vm: QemuProcess | undefined;
    let hostdevs: ManagedHostdevs | undefined;
    try {
      const command = await commandLine(spec, prepared, opts, signal);
      hostdevs = await prepareHost(spec, prepared, opts);
      vm = await QemuProcess.start(spec, prepared.runDir, command, opts);
      vm.hostdevs = hostdevs;
      await vm.connect(prepared, signal);
      await vm.finishStartup(opts, signal);
      return vm;
    } catch (e) {
      if (vm === undefined) await prepared.discard();
      else {
        await prepared.closeListeners();
        vm.destroyRequested = true;
        vm.child.kill('SIGKILL');
        await vm.exited;
      }
      // Idempotent: cleanup() of an exited QEMU gave them back already.
      await hostdevs?.release().catch(() => undefined);
      throw timedOut(e);
    }
  }

  /** Spawn: QEMU starts paused (`-S`); here or through the launch's spawner (daemon mode). */
  private static async start(spec: DomainSpec, runDir: RunDir, c: CommandLine, opts: LaunchOptions): Promise<QemuProcess> {
    const detached = opts.detached === true;
    // The memlock limit must be in place at exec, which only a fork from this thread can arrange.
    if (opts.spawner === undefined || spec.tuning.rlimitMemlock !== undefined) return QemuProcess.spawn(spec, c.argv, runDir, c.cmd, c.env, detached);
    return QemuProcess.spawnWith(opts.spawner, spec, c.argv, runDir, c.cmd, c.env, detached);
  }

  /**
   * Connect: QEMU connects its monitor early and greets only after machine set-up; when that fails it
   * closes the connection and exits, and its exit (with its message) is the error to report. Then the
   * serial console, the private sockets' modes and the VNC address.
   */
  private async connect(p: Prepared, signal: AbortSignal): Promise<void> {
    const failed = this.childExit.then(() => {
      throw new VmkitError('QemuFailed', `QEMU failed to start: ${this.stderr.lines(5).join('\n') || 'it exited without a message'}`, {
        details: { stderr: this.stderr.lines(20), argv: this.argv },
      });
    });
    failed.catch(() => undefined);
    // Bounded by the start's own deadline (in `signal`), not by the listener's default.
    const accepted = p.qmpListener.accept({ signal, timeoutMs: Infinity }).catch(async (e: unknown) => {
      const exited = await Promise.race([this.childExit.then(() => true), delay(2000, undefined, { ref: false }).then(() => false)]);
      if (exited) return failed;
      throw e;
    });
    const qmp = await Promise.race([accepted, failed]);
    this.qmp = qmp;
    qmp.on('event', (ev: QmpEvent) => this.onQmpEvent(ev));
    await securePrivateSocket(this.spec, p.identity);
    this.vnc = await queryVnc(this.spec, qmp, signal);
    if (p.consoleListener !== undefined) this.attachConsole(await Promise.race([p.consoleListener.accepted(), failed]));
    await p.closeListeners();
  }

  /** Finish: what runs while QEMU is paused (tuning), the balloon target, then `cont` (unless `paused`). */
  private async finishStartup(opts: LaunchOptions, signal: AbortSignal): Promise<void> {
    const qmp = this.requireQmp();
    const undo = await opts.beforeCont?.({ pid: this.pid, qmp, spec: this.spec });
    if (undo) this.undoTuning = undo;
    await setBalloonTarget(this.spec, qmp, signal);
    if (opts.paused !== true) await qmp.execute('cont', undefined, { signal });
  }

  /** Asks the guest to power off through ACPI (`system_powerdown`). */
  async powerdown(): Promise<void> {
    this.powerdownRequested = true;
    await this.requireQmp().execute('system_powerdown');
  }

  /** Stops QEMU: SIGTERM, then SIGKILL after `graceMs` (default 3 s). Resolves when it has exited. */
  async destroy(graceMs = 3000): Promise<ExitInfo> {
    if (this.exitInfo !== undefined) return this.exitInfo;
    this.destroyRequested = true;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills QEMU at once with SIGKILL. */
  async kill(): Promise<ExitInfo> {
    if (this.exitInfo !== undefined) return this.exitInfo;
    this.destroyRequested = true;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /**
   * Daemon mode: stops watching QEMU without stopping it. The QMP connection and QEMU's stdio pipes are
   * closed (QEMU ignores SIGPIPE) and the child no longer keeps this process alive; no 'exit' follows.
   */
  async release(): Promise<void> {
    this.removeAllListeners('exit');
    this.child.removeAllListeners('close');
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    this.child.unref();
    this.consoleSocket?.destroy();
    await this.qmp?.close().catch(() => undefined);
    this.log.end();
  }

  /** Writes to the guest's serial console. */
  writeConsole(data: string | Buffer): void {
    if (this.consoleSocket !== undefined) this.consoleSocket.write(data);
    else this.child.stdin?.write(data);
  }

  private requireQmp(): QmpClient {
    if (this.qmp === undefined || this.exitInfo !== undefined) {
      throw new VmkitError('InvalidState', `Domain '${this.spec.name}' is not running`);
    }
    return this.qmp;
  }

  private onQmpEvent(ev: QmpEvent): void {
    if (ev.event === 'SHUTDOWN') {
      this.shutdownEvent = { guest: ev.data.guest === true, reason: String(ev.data.reason ?? 'unknown') };
    }
    this.emit('qmpEvent', ev);
  }

  private attachConsole(socket: Socket): void {
    this.consoleSocket = socket;
    socket.on('data', (chunk: Buffer) => this.onConsole(chunk));
    socket.on('error', () => undefined); // QEMU's exit closes it; the exit path reports
  }

  private onConsole(chunk: Buffer): void {
    this.log.write(chunk);
    this.emit('console', chunk);
  }

  private async cleanup(): Promise<void> {
    this.consoleSocket?.destroy();
    await this.qmp?.close().catch(() => undefined);
    if (this.undoTuning !== undefined) await this.undoTuning().catch(() => undefined);
    await this.hostdevs?.release().catch(() => undefined);
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
    await removeRunDir(this.runDir);
  }

  /** Starts the QEMU command through `spawner`; its exit arrives as the adapter's 'close', like a child's. */
  private static async spawnWith(
    spawner: Spawner,
    spec: DomainSpec,
    argv: readonly string[],
    runDir: RunDir,
    cmd: { readonly file: string; readonly args: readonly string[] },
    env: NodeJS.ProcessEnv,
    detached: boolean,
  ): Promise<QemuProcess> {
    const spawned = await spawner(cmd, { env, logFile: runDir.logFile, detached });
    const stderr = new TailBuffer();
    // A stand-in for ChildProcess: pid, kill, 'close'; no stdio (QEMU writes its log itself).
    const adapter = Object.assign(new EventEmitter(), {
      pid: spawned.pid,
      stdin: null,
      stdout: null,
      stderr: null,
      kill: (sig?: NodeJS.Signals | number) => {
        spawned.kill(typeof sig === 'string' ? sig : 'SIGTERM');
        return true;
      },
      unref: () => undefined,
    });
    void spawned.exited.then(async ({ code, signal }) => {
      stderr.push(await readTail(runDir.logFile));
      adapter.emit('close', code, signal);
    });
    const childExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      adapter.once('close', (code: number | null, sig: NodeJS.Signals | null) => resolve({ code, signal: sig }));
    });
    const log = createWriteStream(runDir.logFile, { flags: 'a', mode: 0o600 });
    return new QemuProcess(spec, argv, runDir, adapter as unknown as ChildProcess, stderr, log, childExit, undefined);
  }

  /** Spawns the QEMU command with piped stdio; stderr feeds the tail buffer and the log. */
  private static spawn(
    spec: DomainSpec,
    argv: readonly string[],
    runDir: RunDir,
    cmd: { readonly file: string; readonly args: readonly string[] },
    env: NodeJS.ProcessEnv,
    detached = false,
  ): QemuProcess {
    // QEMU locks guest memory (mem-lock, VFIO) before QMP is up, so a memlock limit must be in place at
    // exec: the child inherits this process's limits, raised just around the (synchronous) fork.
    const memlock = spec.tuning.rlimitMemlock;
    const start = (): ChildProcess => spawn(cmd.file, cmd.args, { stdio: ['pipe', 'pipe', 'pipe'], env, detached });
    const child = (memlock === undefined ? start() : withRlimit('MEMLOCK', memlockLimit(memlock, prlimit(0, 'MEMLOCK')), start)) as ChildProcessWithoutNullStreams;
    const stderr = new TailBuffer();
    const log = createWriteStream(runDir.logFile, { mode: 0o600 });
    const childExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('error', (e) => {
        stderr.push(Buffer.from(`cannot start ${cmd.file}: ${e.message}\n`));
        resolve({ code: 127, signal: null });
      });
      child.once('close', (code, sig) => resolve({ code, signal: sig }));
    });
    const vm = new QemuProcess(spec, argv, runDir, child, stderr, log, childExit, undefined);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      log.write(chunk);
    });
    child.stdout.on('data', (chunk: Buffer) => vm.onConsole(chunk));
    child.stdin.on('error', () => undefined);
    return vm;
  }
}

/** The last bytes of a file (QEMU's log), for error messages; empty when it cannot be read. */
async function readTail(path: string, bytes = 8192): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
    const size = (await fh.stat()).size;
    const start = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    return buf;
  } catch {
    return Buffer.alloc(0);
  } finally {
    await fh?.close();
  }
}
