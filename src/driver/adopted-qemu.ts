/**
 * A QEMU started by an earlier daemon and re-adopted by this one. It is not our child, so its exit is seen
 * as the end of its QMP connection, confirmed in /proc; signals go to it only while its pid still names the
 * same process (pid + start time), so a reused pid is never signalled.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { VmkitError } from '../errors.js';
import { classifyExit, type ExitInfo } from '../process/exit-info.js';
import type { QemuProcessEvents } from '../process/qemu-process.js';
import { removeRunDir, runDirPaths, type RunDir } from '../process/state-dir.js';
import { QmpClient, type QmpEvent } from '../qmp/index.js';
import { readProcStat } from '../util/proc.js';
import { ConsoleLink } from './console-link.js';
import { recordedAlive, type RuntimeRecord } from './runtime-record.js';
import type { VmProcess } from './vm-process.js';

export class AdoptedQemu extends EventEmitter<QemuProcessEvents> implements VmProcess {
  readonly exited: Promise<ExitInfo>;
  readonly runDir: RunDir;
  qmp: QmpClient | undefined;
  console: ConsoleLink | undefined;
  private exitInfo: ExitInfo | undefined;
  private shutdownEvent: { guest: boolean; reason: string } | undefined;
  private powerdownRequested = false;
  private destroyRequested = false;
  private released = false;
  private resolveExit!: (info: ExitInfo) => void;

  get leftTuning(): boolean {
    return this.record.tuned === true;
  }

  private constructor(readonly record: RuntimeRecord, readonly argv: readonly string[]) {
    super();
    this.runDir = runDirPaths(record.runDir);
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  get pid(): number {
    return this.record.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** True while `record.pid` still names the process the record describes (not a zombie, same start time). */
  static alive(record: Pick<RuntimeRecord, 'pid' | 'startTime'>): Promise<boolean> {
    return recordedAlive(record);
  }

  /** Re-connects QMP (and the console) of a live QEMU; throws when QMP does not answer. */
  static async attach(record: RuntimeRecord, opts: { timeoutMs?: number } = {}): Promise<AdoptedQemu> {
    const cmdline = await readFile(`/proc/${record.pid}/cmdline`, 'utf8').catch(() => '');
    const vm = new AdoptedQemu(record, cmdline.split('\0').filter((a) => a !== '').slice(1));
    let qmp: QmpClient | undefined;
    for (let attempt = 1; qmp === undefined; attempt++) {
      try {
        qmp = await QmpClient.connect(record.qmpSocket, { timeoutMs: opts.timeoutMs ?? 3000 });
      } catch (e) {
        // QEMU may still be dropping the previous daemon's connection: try again, a bounded number of times.
        if (attempt >= 3 || !(await AdoptedQemu.alive(record))) throw e;
      }
    }
    vm.qmp = qmp;
    qmp.on('event', (ev: QmpEvent) => vm.onQmpEvent(ev));
    qmp.once('close', () => void vm.onQmpClosed());
    if (record.consoleSocket !== undefined) {
      try {
        vm.attachConsole(await ConsoleLink.connect(record.consoleSocket));
      } catch {
        // The console is a convenience: the VM is adopted without it.
      }
    }
    return vm;
  }

  attachConsole(link: ConsoleLink): void {
    this.console = link;
    link.on('data', (chunk) => this.emit('console', chunk));
  }

  async powerdown(): Promise<void> {
    if (this.qmp === undefined || this.exitInfo !== undefined) throw new VmkitError('InvalidState', `QEMU pid ${this.pid} is not running`);
    this.powerdownRequested = true;
    await this.qmp.execute('system_powerdown');
  }

  async destroy(graceMs = 3000): Promise<ExitInfo> {
    if (this.exitInfo !== undefined) return this.exitInfo;
    this.destroyRequested = true;
    await this.signal('SIGTERM');
    const timer = setTimeout(() => void this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async kill(): Promise<ExitInfo> {
    if (this.exitInfo !== undefined) return this.exitInfo;
    this.destroyRequested = true;
    await this.signal('SIGKILL');
    return this.exited;
  }

  writeConsole(data: string | Buffer): void {
    this.console?.write(data);
  }

  /** Lets go of QEMU without stopping it (daemon shutdown). */
  async release(): Promise<void> {
    this.released = true;
    this.console?.close();
    this.removeAllListeners('exit');
    await this.qmp?.close();
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    if (!(await AdoptedQemu.alive(this.record))) return;
    try {
      process.kill(this.record.pid, sig);
    } catch {
      // gone meanwhile
    }
  }

  private onQmpEvent(ev: QmpEvent): void {
    if (ev.event === 'SHUTDOWN') this.shutdownEvent = { guest: ev.data.guest === true, reason: String(ev.data.reason ?? 'unknown') };
    this.emit('qmpEvent', ev);
  }

  /** QMP hung up: QEMU is exiting. Wait (bounded steps) until /proc agrees, then report the exit. */
  private async onQmpClosed(): Promise<void> {
    for (let waited = 0; !this.released && (await AdoptedQemu.alive(this.record)); ) {
      const step = waited < 5000 ? 20 : 500;
      await new Promise((r) => setTimeout(r, step));
      waited += step;
      if (waited >= 10_000 && waited % 10_000 < step) {
        // Alive without its monitor for 10 s: try the monitor again before waiting on.
        try {
          const qmp = await QmpClient.connect(this.record.qmpSocket, { timeoutMs: 2000 });
          this.qmp = qmp;
          qmp.on('event', (e: QmpEvent) => this.onQmpEvent(e));
          qmp.once('close', () => void this.onQmpClosed());
          return;
        } catch {
          // keep waiting
        }
      }
    }
    if (this.released) return;
    this.console?.close();
    const died = this.shutdownEvent === undefined;
    const info = classifyExit({
      exitCode: died ? null : 0,
      signal: null,
      ...(this.shutdownEvent === undefined ? {} : { shutdownEvent: this.shutdownEvent }),
      powerdownRequested: this.powerdownRequested,
      destroyRequested: this.destroyRequested,
      stderrTail: [],
    });
    const final: ExitInfo =
      died && !this.destroyRequested
        ? { ...info, message: `QEMU (pid ${this.pid}) died without shutting down (killed or crashed); it had been re-adopted, so its exit status is unknown` }
        : info;
    await removeRunDir(this.runDir).catch(() => undefined);
    this.exitInfo = final;
    this.emit('exit', final);
    this.resolveExit(final);
  }
}
