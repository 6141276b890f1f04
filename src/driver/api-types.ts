/**
 * The Connection API as types: what both the embedded driver (`openEmbedded`) and the daemon client
 * (`connect('unix:///...')`) implement. Everything here is plain data or an interface, so it crosses the
 * daemon's HTTP/JSON boundary unchanged.
 */
import type { EventEmitter } from 'node:events';
import type { Problem } from '../errors.js';
import type { SourceFormat } from '../model/domain.js';
import type { ExitInfo, StopReason } from '../process/exit-info.js';
import type { TuningPlan } from '../tuning/index.js';
import type { LifecyclePolicies, PolicyAction } from './policies.js';

/** `saved`: QEMU is not running and a saved state (`vmkit save`) waits in the root; `start` restores it. */
export type DomainState = 'shutoff' | 'starting' | 'running' | 'paused' | 'shutting-down' | 'stopping' | 'crashed' | 'saved';

/** How the last run of a domain ended: the process exit plus when, and whether vmkit watched it happen. */
export interface StopInfo extends ExitInfo {
  /** ISO time the stop was observed. */
  readonly at: string;
  /** True when QEMU died while no vmkit daemon was watching (found at the daemon's next start). */
  readonly unmonitored?: boolean;
}

export interface DiskSummary {
  readonly id: string;
  readonly path: string;
  readonly format: string;
  readonly bus: string;
  readonly media: string;
  readonly readonly: boolean;
}

export interface NicSummary {
  readonly id: string;
  readonly kind: string;
  readonly model: string;
  readonly mac?: string;
  readonly ifname?: string;
  /** The host bridge of a bridge NIC. */
  readonly bridge?: string;
  /** The libvirt network of a network NIC. */
  readonly network?: string;
}

/** Everything `show` prints about a domain. */
export interface DomainInfo {
  readonly name: string;
  readonly uuid: string;
  readonly state: DomainState;
  /** Why the domain is paused: `user` (suspend, or started paused), `shutdown` (onPoweroff preserve), `panic`. */
  readonly pausedReason?: string;
  readonly autostart: boolean;
  readonly policies: LifecyclePolicies;
  /** The definition's format: `dump` returns it in that format. Definitions given as a DomainSpec are stored as the native (or qemu-launcher) YAML they were checked through; `vmkit-spec` (JSON) only in roots written by older versions. */
  readonly format: DefinitionFormat;
  /** The file the definition was read from, when it came from one. */
  readonly file?: string;
  readonly pid?: number;
  /** ISO time QEMU was started, while it runs. */
  readonly startedAt?: string;
  readonly uptimeMs?: number;
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly machine: string;
  readonly disks: readonly DiskSummary[];
  readonly nics: readonly NicSummary[];
  /** While QEMU runs on q35: the PCIe root ports reserved at start for hotplug, and how many are free. */
  readonly hotplug?: { readonly rootPorts: number; readonly free: number };
  /** QEMU's console socket (daemon mode) and log, while QEMU runs. */
  readonly console?: { readonly socket?: string; readonly log?: string };
  /** Where the VNC server listens while QEMU runs (the port QEMU took for an automatic display). */
  readonly vnc?: { readonly host: string; readonly port: number };
  readonly lastStop?: StopInfo;
  /** The job running on the domain now (start, shutdown, ...), if any. */
  readonly job?: string;
  /** The connection-wide change counter at this domain's last change (orders snapshots and events). */
  readonly seq: number;
}

export type DefinitionFormat = SourceFormat | 'vmkit-spec';

/** A definition as stored: its native text and format. */
export interface DefinitionText {
  readonly format: DefinitionFormat;
  readonly text: string;
  readonly file?: string;
}

export type LifecycleEventType =
  | 'defined'
  | 'undefined'
  | 'started'
  | 'suspended'
  | 'resumed'
  | 'rebooted'
  | 'crashed'
  | 'stopped'
  /** vmops: a save or migration's progress (`progress`). */
  | 'progress'
  /** vmops: a device was hot-plugged or unplugged (`reason`: `added`/`removed`, `device`: its id). */
  | 'device'
  /** vmops: a snapshot was created, reverted to or deleted (`reason`, `snapshot`: its name). */
  | 'snapshot';

/** One lifecycle event, as delivered to library listeners and API clients. */
export interface LifecycleEvent {
  readonly type: LifecycleEventType;
  readonly domain: string;
  readonly uuid: string;
  /** The domain's state after the event. */
  readonly state: DomainState;
  readonly time: string;
  readonly seq: number;
  /** `stopped`/`crashed`: the stop reason; `suspended`: the paused reason; `defined`: `new` or `updated`. */
  readonly reason?: StopReason | string;
  readonly message?: string;
  readonly pid?: number;
  /** `stopped`: the full stop record. */
  readonly stop?: StopInfo;
  /** `progress`: how far a save, restore or migration is. */
  readonly progress?: import('../vmops/types.js').JobProgress;
  /** `device`: the id of the device added or removed. */
  readonly device?: string;
  /** `snapshot`: the snapshot's name. */
  readonly snapshot?: string;
}

export interface DefineOptions {
  /** Start the domain when the daemon starts. Default: unchanged on redefine, else false. */
  readonly autostart?: boolean;
  readonly policies?: Partial<LifecyclePolicies>;
  /**
   * Who asks: the daemon sets this from the client's SO_PEERCRED credentials (never from a request). A
   * caller whose uid is not 0 may not define what driver/privileged-options.ts lists, unless the connection
   * allows raw options. Absent (embedded use): the caller is the process itself, no restriction.
   */
  readonly caller?: { readonly uid: number };
}

export interface StartOptions {
  /** Leave the guest paused after start. */
  readonly paused?: boolean;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

export interface ShutdownOptions {
  /** How long to wait for the guest to power off after the ACPI request (default 60 s). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface DestroyOptions {
  /** Time between SIGTERM and SIGKILL (default 3 s). */
  readonly graceMs?: number;
}

export interface DomainUpdate {
  readonly autostart?: boolean;
  readonly policies?: Partial<Record<keyof LifecyclePolicies, PolicyAction>>;
}

/** The events a domain handle emits (both implementations). */
export interface DomainHandleEvents {
  started: [{ pid: number }];
  stopped: [StopInfo];
  suspended: [{ reason: string }];
  resumed: [];
  rebooted: [];
  crashed: [{ reason: string; message: string }];
  state: [DomainState];
  console: [Buffer];
  /** The tuning plan applied before the guest ran, as data and as text (embedded only). */
  tuning: [TuningPlan, string];
  /** What a start does differently from what the definition implies, placed in the definition (embedded only). */
  warning: [Problem];
}

/** A domain of a connection: the same methods embedded and over the daemon. */
export interface VmDomain extends EventEmitter<DomainHandleEvents> {
  readonly name: string;
  readonly uuid: string;
  /** The last known state (embedded: exact; client: as of the last reply or event). */
  state(): DomainState;
  readonly pid: number | undefined;
  info(): Promise<DomainInfo>;
  /** The definition in its native format. */
  definition(): Promise<DefinitionText>;
  start(opts?: StartOptions): Promise<void>;
  shutdown(opts?: ShutdownOptions): Promise<StopInfo>;
  destroy(opts?: DestroyOptions): Promise<StopInfo>;
  reboot(): Promise<void>;
  suspend(): Promise<void>;
  resume(): Promise<void>;
  update(change: DomainUpdate): Promise<DomainInfo>;
  /** Resolves when the current run ends (at once with the last stop when shut off). */
  waitStopped(): Promise<StopInfo | undefined>;
  writeConsole(data: string | Buffer): void;
  /** One statistics sample: vCPU times, memory, disk and NIC counters (while QEMU runs). */
  stats(): Promise<import('../observe/types.js').DomainStats>;
}

export interface ConnectionEvents {
  event: [LifecycleEvent];
}

/** The whole API for one root: embedded (`embed:///abs/root`) or through a daemon (`unix:///path.sock`). */
export interface VmConnection extends EventEmitter<ConnectionEvents> {
  readonly uri: string;
  define(input: DefinitionInputLike, opts?: DefineOptions): Promise<VmDomain>;
  /**
   * Defines many domains at once (one request to a daemon per few hundred): each item succeeds or fails on
   * its own, like a `define` of it would; the outcomes are in the order of `items`.
   */
  defineMany(items: readonly DefineItem[]): Promise<DefineOutcome[]>;
  undefine(nameOrUuid: string): Promise<void>;
  /** The domain named `nameOrUuid` (a name or a UUID); throws NotFound. */
  lookup(nameOrUuid: string): VmDomain;
  /** Template repositories (virt-builder compatible) and the image cache. */
  readonly images: import('../images/types.js').ImagesApi;
  /** Volumes of the root. */
  readonly volumes: import('../images/types.js').VolumesApi;
  list(): VmDomain[];
  close(): Promise<void>;
}

/** One definition of a `defineMany`. */
export interface DefineItem {
  readonly input: DefinitionInputLike;
  readonly opts?: DefineOptions;
}

/** What became of one item of a `defineMany`. */
export type DefineOutcome<D extends VmDomain = VmDomain> =
  | { readonly ok: true; readonly domain: D }
  | { readonly ok: false; readonly error: import('../errors.js').VmkitError };

/** What `define` accepts (see DefinitionInput): a definition file, a definition's text, or a spec. */
export type DefinitionInputLike =
  | { readonly path: string }
  | { readonly text: string; readonly file?: string; readonly baseDir?: string }
  | { readonly spec: import('../model/domain.js').DomainSpec };
