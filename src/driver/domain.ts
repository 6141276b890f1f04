import { EventEmitter } from 'node:events';
import { VmkitError } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';
import type { ExitInfo } from '../process/exit-info.js';
import { QemuProcess, type BeforeCont } from '../process/qemu-process.js';
import type { TuningPlan } from '../tuning/index.js';
import { pinnedByPlan, prepareTuning } from './tuning-hook.js';

export type DomainState = 'shutoff' | 'starting' | 'running' | 'paused' | 'shutting-down' | 'stopping';

export interface StartOptions {
  /** Leave the guest paused after start. */
  readonly paused?: boolean;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

export interface DomainEvents {
  started: [{ pid: number }];
  /** The tuning plan applied before the guest ran, as data and as text. */
  tuning: [TuningPlan, string];
  stopped: [ExitInfo];
  console: [Buffer];
  state: [DomainState];
}

export interface DomainHost {
  readonly root: string;
  readonly beforeCont?: BeforeCont;
  /** Host CPUs that running domains other than `name` pin vCPUs to. */
  pinnedCpus(except: string): number[];
  track(vm: QemuProcess): void;
  untrack(vm: QemuProcess): void;
}

/**
 * One VM of a Connection. Operations check the state first and fail at once with InvalidState naming both
 * the current state and the states the operation is allowed in.
 */
export class Domain extends EventEmitter<DomainEvents> {
  private current: DomainState = 'shutoff';
  /** Host CPUs this domain's vCPUs are pinned to while it runs. */
  pins: number[] = [];
  private vm: QemuProcess | undefined;
  private lastExit: ExitInfo | undefined;

  constructor(public spec: DomainSpec, private readonly host: DomainHost) {
    super();
  }

  get name(): string {
    return this.spec.name;
  }

  state(): DomainState {
    return this.current;
  }

  /** QEMU's pid while running. */
  get pid(): number | undefined {
    return this.vm?.running === true ? this.vm.pid : undefined;
  }

  /** The QEMU process while it runs (argv, run directory, QMP), for callers that need the details. */
  get process(): QemuProcess | undefined {
    return this.vm;
  }

  /** How the last run ended. */
  get lastStop(): ExitInfo | undefined {
    return this.lastExit;
  }

  /** Starts QEMU (paused with -S), applies tuning, then lets the guest run. Allowed in: shutoff. */
  async start(opts: StartOptions = {}): Promise<void> {
    this.require('start', ['shutoff']);
    this.setState('starting');
    let vm: QemuProcess;
    try {
      const tuning = await prepareTuning(this.spec, {
        exclude: () => this.host.pinnedCpus(this.name),
        onPlan: (plan, text) => {
          this.pins = pinnedByPlan(plan);
          this.emit('tuning', plan, text);
        },
      });
      const beforeCont = chain(tuning, this.host.beforeCont);
      vm = await QemuProcess.launch(this.spec, {
        root: this.host.root,
        ...(beforeCont === undefined ? {} : { beforeCont }),
        ...(opts.paused === undefined ? {} : { paused: opts.paused }),
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
      });
    } catch (e) {
      this.pins = [];
      this.setState('shutoff');
      throw e;
    }
    this.vm = vm;
    this.host.track(vm);
    vm.on('console', (chunk) => this.emit('console', chunk));
    vm.on('qmpEvent', (ev) => {
      if (ev.event === 'STOP' && this.current === 'running') this.setState('paused');
      if (ev.event === 'RESUME' && this.current === 'paused') this.setState('running');
    });
    vm.once('exit', (info) => {
      this.host.untrack(vm);
      this.vm = undefined;
      this.pins = [];
      this.lastExit = info;
      this.setState('shutoff');
      this.emit('stopped', info);
    });
    this.setState(opts.paused === true ? 'paused' : 'running');
    this.emit('started', { pid: vm.pid });
  }

  /**
   * Asks the guest to power off (ACPI) and waits until QEMU has exited, at most `timeoutMs` (default 60 s).
   * On timeout the guest keeps running and a Timeout error is thrown. Allowed in: running, paused, shutting-down.
   */
  async shutdown(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ExitInfo> {
    const vm = this.requireVm('shutdown', ['running', 'paused', 'shutting-down']);
    this.setState('shutting-down');
    await vm.powerdown();
    const timeoutMs = opts.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new VmkitError('Timeout', `Domain '${this.name}' did not power off within ${timeoutMs} ms after the ACPI request; use destroy to stop it`)), timeoutMs);
    });
    try {
      return await Promise.race([vm.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops QEMU (SIGTERM, SIGKILL after `graceMs`). Allowed in: starting is excluded; any running state. */
  async destroy(opts: { graceMs?: number } = {}): Promise<ExitInfo> {
    const vm = this.requireVm('destroy', ['running', 'paused', 'shutting-down', 'stopping']);
    this.setState('stopping');
    return vm.destroy(opts.graceMs);
  }

  /** Resolves when the current run ends (at once with the last stop when shut off). */
  async waitStopped(): Promise<ExitInfo | undefined> {
    return this.vm === undefined ? this.lastExit : this.vm.exited;
  }

  /** Sends input to the guest's serial console. Allowed while QEMU runs. */
  writeConsole(data: string | Buffer): void {
    this.requireVm('write to the console of', ['running', 'paused', 'shutting-down']).writeConsole(data);
  }

  private requireVm(op: string, allowed: DomainState[]): QemuProcess {
    this.require(op, allowed);
    if (this.vm === undefined) throw new VmkitError('InvalidState', `Cannot ${op} domain '${this.name}': it is not running`);
    return this.vm;
  }

  private require(op: string, allowed: DomainState[]): void {
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
