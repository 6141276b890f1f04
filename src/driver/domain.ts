import { EventEmitter } from 'node:events';
import { VmkitError, type Problem } from '../errors.js';
import { routesConsole, type DomainSpec } from '../model/domain.js';
import type { ExitInfo } from '../process/exit-info.js';
import type { BeforeCont, QemuProcess } from '../process/qemu-process.js';
import type { QmpEvent } from '../qmp/index.js';
import type {
  DefinitionText,
  DestroyOptions,
  DomainHandleEvents,
  DomainInfo,
  DomainState,
  DomainUpdate,
  LifecycleEvent,
  LifecycleEventType,
  ShutdownOptions,
  StartOptions,
  StopInfo,
  VmDomain,
} from './api-types.js';
import type { AdoptedQemu } from './adopted-qemu.js';
import type { ConsoleLink } from './console-link.js';
import { ConsoleRing } from './console-ring.js';
import type { JobQueue } from './job-queue.js';
import { policyArgs, resolvePolicies, type LifecyclePolicies } from './policies.js';
import type { RuntimeRecord } from './runtime-record.js';
import type { StoredDomain, StoredStatus } from './store.js';
import type { VmProcess } from './vm-process.js';
import { liveLaunch } from '../vmops/live.js';
import type { LiveRun, RunEnd, SavedState } from '../vmops/types.js';
import type { DomainStats } from '../observe/types.js';

export type { DomainState, StartOptions } from './api-types.js';

export type DomainEvents = DomainHandleEvents;

/** What a domain needs from its connection. */
export interface DomainHost {
  readonly root: string;
  readonly uri: string;
  readonly beforeCont?: BeforeCont;
  /** Daemon mode: QEMU outlives this process and can be re-adopted. */
  readonly detached: boolean;
  readonly noSync: boolean;
  /** PCIe root ports each start of a q35 domain reserves for hotplug. */
  readonly hotplugPorts: number;
  /** The account QEMU runs as when the definition names none; absent: this process's own. */
  readonly qemuUser?: string | number;
  /** The template cache image disks are based on (default: images/cache.ts imageCacheDir()). */
  readonly imageCacheDir?: string;
  /** Host CPUs that running domains other than `name` pin vCPUs to. */
  pinnedCpus(except: string): number[];
  track(vm: VmProcess): void;
  untrack(vm: VmProcess): void;
  /** Assigns the next connection-wide sequence number and delivers the event. */
  publish(domain: Domain, type: LifecycleEventType, extra?: Partial<LifecycleEvent>): void;
  nextSeq(): number;
  saveRecord(record: StoredDomain): Promise<void>;
  saveStatus(name: string, status: StoredStatus): Promise<void>;
  /** Removes cpuset groups left by VMs that are gone (a re-adopted VM's tuning cannot be undone otherwise). */
  sweepCgroups(): void;
}

/** Automatic restarts (onPoweroff/onCrash `restart`) allowed per minute before vmkit gives up. */
const MAX_RESTARTS_PER_MINUTE = 5;

/**
 * One VM of a Connection. Operations other than destroy run as jobs on the domain's queue, one at a time;
 * each checks the state when its turn comes and fails at once with InvalidState naming the current state
 * and the states it is allowed in. `destroy` does not queue: it stops QEMU (or cancels a start) at once.
 */
export class Domain extends EventEmitter<DomainEvents> implements VmDomain {
  private current: DomainState = 'shutoff';
  private pausedWhy: string | undefined;
  /** Host CPUs this domain's vCPUs are pinned to while it runs. */
  pins: number[] = [];
  private vm: VmProcess | undefined;
  private consoleLink: ConsoleLink | undefined;
  private lastExit: StopInfo | undefined;
  private startedAt: number | undefined;
  private startAbort: AbortController | undefined;
  private starting: Promise<void> | undefined;
  private shutdownSeen: { guest: boolean; reason: string } | undefined;
  private restarts: number[] = [];
  /** The policies the running QEMU was started with (its `-action` options). */
  private runPolicies: LifecyclePolicies;
  private removed = false;
  /** vmops: the running QEMU's spec, reserved hotplug ports and hot-plugged devices (src/vmops/live.ts). */
  live: LiveRun | undefined;
  /** vmops: a save or migration is ending this run on purpose (the stop gets its reason, the state follows). */
  ending: RunEnd | undefined;
  /** vmops: the saved state (managedsave) a start restores. */
  private savedV: SavedState | undefined;
  /** The last 256 KiB of serial output of the current (or last) run, replayed to consoles that attach late. */
  private readonly consoleRing = new ConsoleRing();
  /** The connection-wide sequence number of this domain's last change. */
  seq: number;

  constructor(
    private rec: StoredDomain,
    private readonly host: DomainHost,
    readonly jobs: JobQueue,
    status: StoredStatus = {},
  ) {
    super();
    this.setMaxListeners(0); // console and stream clients of the daemon each listen
    this.lastExit = status.lastStop;
    this.savedV = status.saved;
    if (status.saved !== undefined) this.current = 'saved';
    this.runPolicies = rec.policies;
    this.seq = host.nextSeq();
  }

  get name(): string {
    return this.rec.name;
  }

  get uuid(): string {
    return this.rec.uuid;
  }

  get spec(): DomainSpec {
    return this.rec.spec;
  }

  get record(): StoredDomain {
    return this.rec;
  }

  /** The saved state (`vmkit save`) the next start restores, if any. */
  get saved(): SavedState | undefined {
    return this.savedV;
  }

  /** The domain's host (connection): vmops operations publish events and save records through it. */
  get hostOf(): DomainHost {
    return this.host;
  }

  state(): DomainState {
    return this.current;
  }

  /** QEMU's pid while running. */
  get pid(): number | undefined {
    return this.vm?.running === true ? this.vm.pid : undefined;
  }

  /** The QEMU process while it runs (argv, run directory, QMP), for callers that need the details. */
  get process(): VmProcess | undefined {
    return this.vm;
  }

  /** How the last run ended. */
  get lastStop(): StopInfo | undefined {
    return this.lastExit;
  }

  /** True once undefined: every operation then fails with NotFound. */
  get isRemoved(): boolean {
    return this.removed;
  }

  // ---- operations ------------------------------------------------------------------------------------

  /**
   * Starts QEMU (paused with -S), applies tuning, then lets the guest run. A saved domain (`vmkit save`) is
   * restored from its saved state instead of booting. Allowed in: shutoff, saved.
   */
  start(opts: StartOptions = {}): Promise<void> {
    return this.job('start', ['shutoff', 'saved'], async () => {
      if (this.current !== 'saved' || this.savedV === undefined) return this.doStart(opts);
      const { restoreHook } = await import('../vmops/savestate.js');
      return this.doStart(opts, restoreHook(this, this.savedV));
    });
  }

  /**
   * vmops: runs `fn` as a job of this domain's queue once the state is one of `allowed` (the same rules as
   * every other operation), with the running QEMU when there is one.
   */
  vmJob<T>(op: string, allowed: readonly DomainState[], fn: (vm: VmProcess | undefined) => Promise<T>): Promise<T> {
    return this.job(op, allowed, () => fn(this.vm));
  }

  /** vmops: starts QEMU to receive a migration stream (`incoming`), as a job. Allowed in: shutoff. */
  startIncoming(incoming: IncomingRun, opts: StartOptions = {}): Promise<void> {
    return this.job('start', ['shutoff'], () => this.doStart(opts, incoming));
  }

  /** vmops: records (or clears) the saved state and moves between shutoff and saved. */
  async setSaved(saved: SavedState | undefined): Promise<void> {
    this.savedV = saved;
    await this.host.saveStatus(this.name, { ...(this.lastExit === undefined ? {} : { lastStop: this.lastExit }), ...(saved === undefined ? {} : { saved }) });
    if (this.vm === undefined) this.setState(saved === undefined ? 'shutoff' : 'saved');
    this.touch();
  }

  /** vmops: replaces the stored record (a --persistent hotplug); the running QEMU is not touched. */
  async replaceRecord(rec: StoredDomain): Promise<void> {
    await this.host.saveRecord(rec);
    this.rec = rec;
    this.touch();
  }

  /** vmops: publishes a lifecycle event of this domain (progress, device, snapshot, saved, migrated). */
  announce(type: LifecycleEventType, extra: Partial<LifecycleEvent> = {}): void {
    this.touch();
    this.host.publish(this, type, extra);
  }

  /**
   * Asks the guest to power off (ACPI) and waits until it has, at most `timeoutMs` (default 60 s). On
   * timeout the guest keeps running and a Timeout error is thrown. Allowed in: running, paused, shutting-down.
   */
  shutdown(opts: ShutdownOptions = {}): Promise<StopInfo> {
    return this.job('shutdown', ['running', 'paused', 'shutting-down'], () => this.doShutdown(opts));
  }

  /**
   * Stops QEMU (SIGTERM, SIGKILL after `graceMs`), or cancels a start in progress. Does not wait for other
   * jobs. Allowed in: starting, running, paused, shutting-down, stopping, crashed.
   */
  async destroy(opts: DestroyOptions = {}): Promise<StopInfo> {
    this.requireDefined('destroy');
    if (this.current === 'starting' && this.starting !== undefined) {
      const starting = this.starting;
      this.startAbort?.abort(new VmkitError('Aborted', `Start of domain '${this.name}' cancelled by destroy`));
      await starting.catch(() => undefined);
      if (this.vm === undefined) {
        return stopInfo({ reason: 'destroyed', exitCode: null, signal: null, requested: false, stderrTail: [], message: 'The start was cancelled by destroy' });
      }
    }
    this.require('destroy', ['running', 'paused', 'shutting-down', 'stopping', 'crashed']);
    const vm = this.vm;
    if (vm === undefined) throw this.notRunning('destroy');
    this.setState('stopping');
    await vm.destroy(opts.graceMs);
    return this.lastExit ?? stopInfo(await vm.exited);
  }

  /** Resets the guest (QMP system_reset); with onReboot destroy QEMU then exits. Allowed in: running, paused. */
  reboot(): Promise<void> {
    return this.job('reboot', ['running', 'paused'], async () => {
      const qmp = this.requireQmp('reboot');
      const wasShutdown = this.pausedWhy === 'shutdown';
      await qmp.execute('system_reset');
      // A guest kept after power-off (onPoweroff preserve) is reset and let run again: a reboot.
      if (wasShutdown && this.vm?.running === true) await qmp.execute('cont');
    });
  }

  /** Pauses the guest's vCPUs (QMP stop). Allowed in: running. */
  suspend(): Promise<void> {
    return this.job('suspend', ['running'], async () => {
      await this.requireQmp('suspend').execute('stop');
      this.paused('user');
    });
  }

  /** Lets a paused guest run again (QMP cont). Allowed in: paused. */
  resume(): Promise<void> {
    return this.job('resume', ['paused'], async () => {
      if (this.pausedWhy === 'shutdown') {
        throw new VmkitError('InvalidState', `Cannot resume domain '${this.name}': its guest has powered off (kept by onPoweroff preserve); reboot or destroy it`, {
          details: { domain: this.name, state: this.current, pausedReason: 'shutdown' },
        });
      }
      await this.requireQmp('resume').execute('cont');
      this.running();
    });
  }

  /** Changes autostart or the lifecycle policies (policies apply from the next start). Allowed in any state. */
  update(change: DomainUpdate): Promise<DomainInfo> {
    return this.job('update', undefined, async () => {
      const next: StoredDomain = {
        ...this.rec,
        ...(change.autostart === undefined ? {} : { autostart: change.autostart }),
        policies: resolvePolicies(change.policies, this.rec.policies),
        updatedAt: new Date().toISOString(),
      };
      await this.host.saveRecord(next);
      this.rec = next;
      this.touch();
      return this.info();
    });
  }

  /** Resolves when the current run ends (at once with the last stop when shut off). */
  async waitStopped(): Promise<StopInfo | undefined> {
    if (this.vm === undefined) return this.lastExit;
    await this.vm.exited;
    return this.lastExit;
  }

  /** Sends input to the guest's serial console. Allowed while QEMU runs. */
  writeConsole(data: string | Buffer): void {
    this.require('write to the console of', ['running', 'paused', 'shutting-down', 'crashed']);
    if (this.consoleLink !== undefined) this.consoleLink.write(data);
    else if (this.vm !== undefined) this.vm.writeConsole(data);
    else throw this.notRunning('write to the console of');
  }

  /** The serial output kept of the current (or last) run: at most its last 256 KiB, oldest first. */
  consoleHistory(): Buffer {
    return this.consoleRing.contents();
  }

  /**
   * One statistics sample (vCPU times, memory, disk and NIC counters): one QMP round trip and a few /proc
   * and /sys reads. Does not queue behind jobs. Allowed while QEMU runs.
   */
  async stats(): Promise<DomainStats> {
    this.requireDefined('read the statistics of');
    const vm = this.vm;
    const qmp = vm?.qmp;
    if (vm === undefined || !vm.running || qmp === undefined || this.current === 'starting') throw this.notRunning('read the statistics of');
    const { collectStats } = await import('../observe/collect.js');
    return collectStats({ name: this.name, uuid: this.uuid, state: this.current, pid: vm.pid, spec: this.spec, qmp });
  }

  info(): Promise<DomainInfo> {
    return Promise.resolve(this.snapshot());
  }

  definition(): Promise<DefinitionText> {
    const r = this.rec;
    return Promise.resolve({ format: r.format, text: r.text, ...(r.file === undefined ? {} : { file: r.file }) });
  }

  /** The domain as plain data (what `show` prints). */
  snapshot(): DomainInfo {
    const vm = this.vm;
    const running = vm?.running === true;
    const s = running && this.live !== undefined ? this.live.spec : this.rec.spec;
    const consoleSocket = running && this.host.detached && routesConsole(s) ? vm.runDir.consoleSocket : undefined;
    return {
      name: this.name,
      uuid: this.uuid,
      state: this.current,
      ...(this.pausedWhy === undefined || (this.current !== 'paused' && this.current !== 'crashed') ? {} : { pausedReason: this.pausedWhy }),
      autostart: this.rec.autostart,
      policies: this.rec.policies,
      format: this.rec.format,
      ...(this.rec.file === undefined ? {} : { file: this.rec.file }),
      ...(running ? { pid: vm.pid } : {}),
      ...(running && this.startedAt !== undefined ? { startedAt: new Date(this.startedAt).toISOString(), uptimeMs: Date.now() - this.startedAt } : {}),
      ...liveInfo(this.live, running),
      vcpus: s.cpu.vcpus,
      memoryMiB: s.memoryMiB,
      machine: s.machine.type,
      disks: s.disks.map((d) => ({ id: d.id, path: d.path, format: d.format, bus: d.bus, media: d.media, readonly: d.readonly })),
      nics: s.nics.map((n) => ({
        id: n.id,
        kind: n.kind,
        model: n.model,
        ...(n.mac === undefined ? {} : { mac: n.mac }),
        ...(n.kind === 'tap' ? { ifname: n.ifname } : {}),
        ...(n.kind === 'bridge' ? { bridge: n.bridge } : {}),
        ...(n.kind === 'network' ? { network: n.network } : {}),
      })),
      ...(running && vm.vnc !== undefined ? { vnc: { host: vm.vnc.host, port: vm.vnc.port } } : {}),
      ...(running ? { console: { ...(consoleSocket === undefined ? {} : { socket: consoleSocket }), log: vm.runDir.logFile } } : {}),
      ...(this.lastExit === undefined ? {} : { lastStop: this.lastExit }),
      ...(this.jobs.running === undefined ? {} : { job: this.jobs.running }),
      seq: this.seq,
    };
  }

  // ---- used by the connection --------------------------------------------------------------------------

  /** Replaces the definition (the connection checked the state on this domain's queue). */
  redefine(rec: StoredDomain): void {
    this.rec = rec;
    this.touch();
  }

  markRemoved(): void {
    this.removed = true;
    this.touch();
  }

  /** Re-adopts a QEMU started by an earlier daemon. */
  async adopt(vm: AdoptedQemu): Promise<void> {
    let status: { status?: string } = {};
    try {
      status = (await vm.qmp?.execute<{ status?: string }>('query-status', undefined, { timeoutMs: 5000 })) ?? {};
    } catch {
      // state stays running; events correct it
    }
    this.startedAt = vm.record.startedAt;
    this.attach(vm, undefined);
    switch (status.status) {
      case 'running':
        this.running();
        break;
      case 'shutdown':
        this.paused('shutdown');
        break;
      case 'guest-panicked':
        this.crashedPreserved();
        break;
      default:
        this.paused('user');
    }
  }

  /** Records a stop vmkit did not see (QEMU died while no daemon watched, or a start was interrupted). */
  async recordUnmonitoredStop(info: Omit<StopInfo, 'at' | 'unmonitored'>): Promise<void> {
    const stop: StopInfo = { ...info, at: new Date().toISOString(), unmonitored: true };
    this.lastExit = stop;
    await this.host.saveStatus(this.name, { lastStop: stop });
    this.touch();
    this.host.publish(this, 'stopped', { reason: stop.reason, message: stop.message, stop });
  }

  /** Lets go of QEMU without stopping it (daemon shutdown); the domain object is not used afterwards. */
  async release(): Promise<void> {
    const vm = this.vm;
    if (vm === undefined) return;
    vm.removeAllListeners('exit');
    this.consoleLink?.close();
    await vm.release();
  }

  // ---- internals ---------------------------------------------------------------------------------------

  private job<T>(op: string, allowed: readonly DomainState[] | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      this.requireDefined(op);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.jobs.run(op, async () => {
      this.requireDefined(op);
      if (allowed !== undefined) this.require(op, allowed);
      return fn();
    });
  }

  private doStart(opts: StartOptions, incoming?: IncomingRun): Promise<void> {
    const run = this.launch(opts, incoming);
    this.starting = run;
    return run.finally(() => {
      if (this.starting === run) this.starting = undefined;
    });
  }

  private async launch(opts: StartOptions, incoming?: IncomingRun): Promise<void> {
    const before = this.current;
    this.setState('starting');
    this.pausedWhy = undefined;
    this.shutdownSeen = undefined;
    this.consoleRing.clear();
    const abort = new AbortController();
    this.startAbort = abort;
    const signal = opts.signal === undefined ? abort.signal : AbortSignal.any([opts.signal, abort.signal]);
    const detached = this.host.detached;
    this.runPolicies = this.rec.policies;
    const plan = liveLaunch(this.launchSpec(), incoming?.hot, this.host.hotplugPorts);
    const spec = plan.spec;
    let vm: QemuProcess | undefined;
    let link: ConsoleLink | undefined;
    let tuned = false;
    let resume = opts.paused !== true;
    const warnings: Problem[] = [];
    try {
      const { ConsoleLink, QemuProcess, daemonArgs, daemonSpec, pinnedByPlan, prepareTuning, processStartTime, serverSpawner, writeRuntimeRecord } = await import('./start-kit.js');
      const tuning = await prepareTuning(spec, {
        exclude: () => this.host.pinnedCpus(this.name),
        onWarning: (w) => warnings.push(w),
        onPlan: (plan, text) => {
          this.pins = pinnedByPlan(plan);
          this.emit('tuning', plan, text);
        },
      });
      tuned = tuning !== undefined;
      for (const w of await this.placed(warnings)) this.emit('warning', w);
      const beforeCont = chain(tuning, this.host.beforeCont);
      const console = detached && routesConsole(this.spec);
      // Disks named by volume or template get their files (driver/storage-sources.ts).
      const disks = spec.disks.some((d) => d.volume !== undefined || d.image !== undefined) ? await (await import('./storage-sources.js')).resolveStorageSources(spec, this.host) : spec;
      vm = await QemuProcess.launch(detached ? daemonSpec(disks) : disks, {
        root: this.host.root,
        ...(beforeCont === undefined ? {} : { beforeCont }),
        paused: detached || opts.paused === true || incoming !== undefined,
        signal,
        ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
        ...(this.host.qemuUser === undefined ? {} : { defaultUser: this.host.qemuUser }),
        ...(this.rec.format === 'vmkit-spec' ? {} : { source: { text: this.rec.text, ...(this.rec.file === undefined ? {} : { file: this.rec.file }) } }),
        ...(detached ? { detached: true, spawner: serverSpawner } : {}),
        ...(detached || incoming !== undefined ? { extraArgs: (rd: import('../process/state-dir.js').RunDir) => [...(detached ? daemonArgs(rd, console) : []), ...(incoming === undefined ? [] : ['-incoming', 'defer'])] } : {}),
      });
      if (incoming !== undefined) resume = (await incoming.receive(vm, signal)) && resume;
      if (detached) {
        signal.throwIfAborted();
        if (console) link = await ConsoleLink.connect(vm.runDir.consoleSocket);
        if (resume) await vm.qmp?.execute('cont', undefined, { signal });
        const startTime = await processStartTime(vm.pid);
        if (startTime === undefined) throw new VmkitError('QemuFailed', `QEMU (pid ${vm.pid}) exited right after it started`);
        const record: RuntimeRecord = {
          version: 1,
          name: this.name,
          uuid: this.uuid,
          pid: vm.pid,
          startTime,
          startedAt: Date.now(),
          runDir: vm.runDir.dir,
          qmpSocket: vm.runDir.adoptQmpSocket,
          ...(console ? { consoleSocket: vm.runDir.consoleSocket } : {}),
          tuned,
        };
        await writeRuntimeRecord(vm.runDir, record, this.host.noSync);
        signal.throwIfAborted();
      }
      if (!detached && incoming !== undefined && resume) await vm.qmp?.execute('cont', undefined, { signal });
    } catch (e) {
      link?.close();
      if (vm !== undefined && vm.running) await vm.kill();
      this.pins = [];
      this.startAbort = undefined;
      this.setState(before === 'saved' && this.savedV !== undefined ? 'saved' : 'shutoff');
      this.touch();
      // Nobody here asked for an incoming start: tell the connection's listeners it failed.
      if (incoming !== undefined) this.host.publish(this, 'stopped', { reason: 'failed', message: `The ${incoming.reason === 'restored' ? 'restore' : 'incoming migration'} failed: ${(e as Error).message}` });
      await incoming?.failed?.();
      if (abort.signal.aborted && opts.signal?.aborted !== true) throw abort.signal.reason;
      throw await this.placedError(e);
    }
    this.startAbort = undefined;
    this.startedAt = Date.now();
    this.live = plan.live;
    this.attach(vm, link);
    if (!resume) this.paused('user', false);
    else this.setState('running');
    this.touch();
    this.emit('started', { pid: vm.pid });
    this.host.publish(this, 'started', { pid: vm.pid, ...(incoming === undefined ? {} : { reason: incoming.reason }) });
    await incoming?.done?.();
  }

  /** The stored definition text when it is the definition's own (not a JSON spec of an older root). */
  private sourceText(): string | undefined {
    return this.rec.format === 'vmkit-spec' ? undefined : this.rec.text;
  }

  /** Problems found after parsing, placed at file:line:col in the stored definition (the locators load only then). */
  private async placed(problems: readonly Problem[]): Promise<Problem[]> {
    const text = this.sourceText();
    if (text === undefined || problems.length === 0) return [...problems];
    const { withPositions } = await import('../host/caps/locate-spec.js');
    return withPositions(problems.map((p) => ({ ...(this.rec.file === undefined ? {} : { file: this.rec.file }), ...p })), this.spec, text, this.rec.file);
  }

  /** A start's error with its problems placed in the stored definition. */
  private async placedError(e: unknown): Promise<unknown> {
    const text = this.sourceText();
    if (text === undefined || (e as { details?: { problems?: unknown } } | null)?.details?.problems === undefined) return e;
    const { placeProblems } = await import('../host/caps/locate-spec.js');
    return placeProblems(e, this.spec, text);
  }

  /** The spec QEMU starts from: the definition plus the `-action` options its policies need. */
  private launchSpec(): DomainSpec {
    const extra = policyArgs(this.rec.policies);
    return extra.length === 0 ? this.spec : { ...this.spec, qemuArgs: [...this.spec.qemuArgs, ...extra] };
  }

  private attach(vm: VmProcess, link: ConsoleLink | undefined): void {
    this.vm = vm;
    this.consoleLink = link;
    this.host.track(vm);
    const output = (chunk: Buffer): void => {
      this.consoleRing.push(chunk);
      this.emit('console', chunk);
    };
    if (link !== undefined) link.on('data', output);
    vm.on('console', output);
    vm.on('qmpEvent', (ev) => this.onQmpEvent(ev));
    vm.once('exit', (info) => this.onExit(vm, info));
  }

  private onQmpEvent(ev: QmpEvent): void {
    switch (ev.event) {
      case 'SHUTDOWN':
        this.shutdownSeen = { guest: ev.data.guest === true, reason: String(ev.data.reason ?? 'unknown') };
        break;
      case 'STOP':
        if (this.shutdownSeen !== undefined) {
          // After SHUTDOWN QEMU exits, unless onPoweroff preserve keeps it paused.
          if (this.runPolicies.onPoweroff === 'preserve' && this.shutdownSeen.reason !== 'guest-panic') this.paused('shutdown');
        } else if (this.current === 'running' || this.current === 'shutting-down') {
          this.paused('user');
        }
        break;
      case 'RESUME':
        if (this.current === 'paused' || this.current === 'crashed') this.running();
        break;
      case 'RESET':
        this.shutdownSeen = undefined;
        this.emit('rebooted');
        this.host.publish(this, 'rebooted', { reason: String(ev.data.reason ?? 'reset') });
        break;
      case 'GUEST_PANICKED':
        if (this.runPolicies.onCrash === 'preserve' && ev.data.action === 'pause') this.crashedPreserved();
        break;
    }
  }

  private onExit(vm: VmProcess, info: ExitInfo): void {
    this.host.untrack(vm);
    if (vm.leftTuning === true) this.host.sweepCgroups();
    if (this.vm !== vm) return;
    this.vm = undefined;
    this.consoleLink?.close();
    this.consoleLink = undefined;
    this.pins = [];
    this.startedAt = undefined;
    this.pausedWhy = undefined;
    this.live = undefined;
    const ending = this.ending;
    this.ending = undefined;
    const stop = ending === undefined ? stopInfo(info) : stopInfo({ ...info, reason: ending.reason, requested: true, message: ending.message });
    this.lastExit = stop;
    this.setState(ending?.reason === 'saved' && this.savedV !== undefined ? 'saved' : 'shutoff');
    this.touch();
    void this.host.saveStatus(this.name, { lastStop: stop, ...(this.savedV === undefined ? {} : { saved: this.savedV }) }).catch(() => undefined);
    if (stop.reason === 'crashed') {
      this.emit('crashed', { reason: stop.qemuReason ?? 'crashed', message: stop.message });
      this.host.publish(this, 'crashed', { reason: 'crashed', message: stop.message });
    }
    const restart = this.restartWanted(stop);
    const message = restart === 'rate-limited' ? `${stop.message}; not restarted: ${MAX_RESTARTS_PER_MINUTE} automatic restarts within a minute` : stop.message;
    this.emit('stopped', stop);
    this.host.publish(this, 'stopped', { reason: stop.reason, message, stop });
    if (restart === true) {
      this.start().catch(() => undefined);
    }
  }

  /** Whether the policies ask for a fresh QEMU after this stop. */
  private restartWanted(stop: StopInfo): boolean | 'rate-limited' {
    if (this.removed) return false;
    const p = this.rec.policies;
    const reset = stop.qemuReason === 'guest-reset' || stop.qemuReason === 'host-qmp-system-reset';
    const want = (stop.reason === 'shutdown' && !stop.requested && !reset && p.onPoweroff === 'restart') || (stop.reason === 'crashed' && p.onCrash === 'restart');
    if (!want) return false;
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < 60_000);
    if (this.restarts.length >= MAX_RESTARTS_PER_MINUTE) return 'rate-limited';
    this.restarts.push(now);
    return true;
  }

  private async doShutdown(opts: ShutdownOptions): Promise<StopInfo> {
    const vm = this.vm;
    if (vm === undefined) throw this.notRunning('shutdown');
    const before = this.current;
    const preserve = this.runPolicies.onPoweroff === 'preserve';
    this.setState('shutting-down');
    const timeoutMs = opts.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new VmkitError('Timeout', `Domain '${this.name}' did not power off within ${timeoutMs} ms after the ACPI request; use destroy to stop it`, { details: { domain: this.name, timeoutMs } })),
        timeoutMs,
      );
      onAbort = () => reject(new VmkitError('Aborted', `Shutdown of domain '${this.name}' aborted`));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
    const done: Promise<StopInfo> = preserve ? this.poweredOffPreserved(vm) : vm.exited.then(() => this.lastExit ?? stopInfo(info0(vm)));
    try {
      await vm.powerdown();
      return await Promise.race([done, bound]);
    } catch (e) {
      if (this.vm === vm && this.current === 'shutting-down') this.setState(before === 'shutting-down' ? 'running' : before);
      throw e;
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Resolves when a guest kept by onPoweroff preserve has powered off (QEMU paused after SHUTDOWN). */
  private poweredOffPreserved(vm: VmProcess): Promise<StopInfo> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.vm !== vm) {
          this.off('state', check);
          if (this.lastExit !== undefined) resolve(this.lastExit);
          else reject(this.notRunning('shutdown'));
        } else if (this.current === 'paused' && this.pausedWhy === 'shutdown') {
          this.off('state', check);
          resolve(stopInfo({ reason: 'shutdown', exitCode: null, signal: null, requested: true, stderrTail: [], message: 'The guest powered off; QEMU is kept, paused (onPoweroff preserve)' }));
        }
      };
      this.on('state', check);
    });
  }

  private paused(why: string, publish = true): void {
    this.pausedWhy = why;
    if (this.current === 'paused') return;
    this.setState('paused');
    this.touch();
    this.emit('suspended', { reason: why });
    if (publish) this.host.publish(this, 'suspended', { reason: why });
  }

  private running(): void {
    if (this.current === 'running') return;
    const was = this.current;
    this.pausedWhy = undefined;
    this.setState('running');
    this.touch();
    if (was === 'paused' || was === 'crashed') {
      this.emit('resumed');
      this.host.publish(this, 'resumed');
    }
  }

  private crashedPreserved(): void {
    this.pausedWhy = 'panic';
    this.setState('crashed');
    this.touch();
    const message = 'The guest kernel panicked; QEMU is kept, paused (onCrash preserve)';
    this.emit('crashed', { reason: 'guest-panic', message });
    this.host.publish(this, 'crashed', { reason: 'guest-panic', message });
  }

  private touch(): void {
    this.seq = this.host.nextSeq();
  }

  private requireQmp(op: string): NonNullable<VmProcess['qmp']> {
    const qmp = this.vm?.qmp;
    if (qmp === undefined || this.vm?.running !== true) throw this.notRunning(op);
    return qmp;
  }

  private notRunning(op: string): VmkitError {
    return new VmkitError('InvalidState', `Cannot ${op} domain '${this.name}': it is not running`, { details: { domain: this.name, state: this.current } });
  }

  private requireDefined(op: string): void {
    if (this.removed) {
      throw new VmkitError('NotFound', `Cannot ${op} domain '${this.name}': it has been undefined`, { details: { domain: this.name } });
    }
  }

  private require(op: string, allowed: readonly DomainState[]): void {
    if (!allowed.includes(this.current)) {
      throw new VmkitError('InvalidState', `Cannot ${op} domain '${this.name}': it is ${this.current}, and ${op} needs ${allowed.join(' or ')}`, {
        details: { domain: this.name, state: this.current, allowed },
      });
    }
  }

  private setState(s: DomainState): void {
    if (s === this.current) return;
    this.current = s;
    this.emit('state', s);
  }
}

function stopInfo(info: ExitInfo): StopInfo {
  return { ...info, at: new Date().toISOString() };
}

function info0(vm: VmProcess): ExitInfo {
  return { reason: 'shutdown', exitCode: null, signal: null, requested: true, stderrTail: [], message: `QEMU (pid ${vm.pid}) exited` };
}

/** Runs `a` then `b` before `cont`; the undo runs in reverse order. */
function chain(a: BeforeCont | undefined, b: BeforeCont | undefined): BeforeCont | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return async (vm) => {
    const undoA = await a(vm);
    let undoB;
    try {
      undoB = await b(vm);
    } catch (e) {
      if (undoA) await undoA();
      throw e;
    }
    return async () => {
      if (undoB) await undoB();
      if (undoA) await undoA();
    };
  };
}

/** vmops: what a start that receives a migration stream (restore, incoming migration) runs. */
export interface IncomingRun {
  /** Devices hot-plugged into the run being received (the new QEMU is started with them). */
  readonly hot?: import('../vmops/types.js').HotState;
  /** The `started` event's reason: `restored` or `migrated`. */
  readonly reason: string;
  /** Receives the stream into the paused QEMU (started with `-incoming defer`); true: let the guest run. */
  receive(vm: VmProcess, signal: AbortSignal): Promise<boolean>;
  /** After the domain is running (or paused) with the received state. */
  done?(): Promise<void>;
  /** After a failed start (QEMU is gone). */
  failed?(): Promise<void>;
}

function liveInfo(live: LiveRun | undefined, running: boolean): { hotplug?: { rootPorts: number; free: number } } {
  if (!running || live === undefined || live.ports.length === 0) return {};
  return { hotplug: { rootPorts: live.ports.length, free: live.ports.length - live.used.size } };
}
