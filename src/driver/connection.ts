import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { deepFreeze } from '../config/deep-freeze.js';
import { formatProblem, VmkitError, type Problem } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';
import type { BeforeCont } from '../process/qemu-process.js';
import type { ConnectionEvents, DefineItem, DefineOptions, DefineOutcome, DomainInfo, LifecycleEvent, LifecycleEventType, VmConnection } from './api-types.js';
import type { AdoptedQemu } from './adopted-qemu.js';
import { readDefinition, type DefinitionInput, type ParsedDefinition } from './definition-input.js';
import { Domain, type DomainHost } from './domain.js';
import { JobQueue } from './job-queue.js';
import type { ParsePool } from './parse-pool.js';
import { definedPolicies, resolvePolicies } from './policies.js';
import { reconcileRunDirs, type ReconcileResult } from './reconcile.js';
import { RootLock } from './root-lock.js';
import { checkDomainName, DomainStore, STORE_VERSION, type StoredDomain, type StoredStatus } from './store.js';
import type { VmProcess } from './vm-process.js';
import { IMAGE_METHODS, lazyApi, VOLUME_METHODS } from '../images/lazy.js';
import type { ImagesApi, VolumesApi } from '../images/types.js';
import { HOTPLUG_ROOT_PORTS, MAX_HOTPLUG_ROOT_PORTS } from '../vmops/live.js';

export type { DefinitionInput } from './definition-input.js';

export interface EmbeddedOptions {
  /** Absolute directory holding this connection's private state. Created if missing. */
  readonly root: string;
  /** Runs between QEMU's paused start and `cont` (tuning). */
  readonly beforeCont?: BeforeCont;
  /** Skip fsyncs of the store (throw-away roots such as `vmkit run`'s). Default false. */
  readonly noSync?: boolean;
  /**
   * The root is one only this driver can reach (a fresh private root, like `vmkit run`'s: made 0700 by
   * mkdtemp, swept by its owner record): it takes no lock. Default false: the root is locked.
   */
  readonly unshared?: boolean;
  /**
   * PCIe root ports each start of a q35 domain reserves for hotplug (default HOTPLUG_ROOT_PORTS, 4). A
   * root nothing can reach but its owner, like `vmkit run`'s, passes 0: the ports only cost boot time
   * (each is a bridge the guest enumerates). Every start in a root reserves the same number, so a saved
   * state restores and a migration lands on the same guest layout.
   */
  readonly hotplugPorts?: number;
  /** The template cache of `conn.images` and image disks (default: images/cache.ts imageCacheDir()). */
  readonly imageCacheDir?: string;
  /** Template repository configuration directories (default: images/repo-config.ts repoDirs()). */
  readonly repoDirs?: readonly string[];
}

export interface DriverOptions extends EmbeddedOptions {
  /**
   * Daemon mode: QEMU outlives this process (no PDEATHSIG, its own session, a QMP monitor and console it
   * serves), and opening the root re-adopts the QEMUs an earlier daemon left running. Default false.
   */
  readonly detached?: boolean;
  /** Parse definitions on this many worker threads (daemon mode: keeps the event loop free). Default 0: in-thread. */
  readonly parseThreads?: number;
  /**
   * The account QEMU runs as when a definition names no `user`/`group`. Default: `vmkit-qemu` for a daemon
   * running as root (QEMU never runs as root unless a definition asks), otherwise this process's own user
   * (null, or embedded: QEMU is the application's child, in its context).
   */
  readonly qemuUser?: string | number | null;
  /** Let clients that are not root define raw and privileged options too (`vmkit daemon --allow-raw`). */
  readonly allowRaw?: boolean;
  /** QEMU binaries any client may name as `emulator` (absolute paths); default: qemu-system-* in /usr/bin, /usr/local/bin. */
  readonly emulators?: readonly string[];
  /** With parseThreads: longest one definition may take to parse (default PARSE_TIME_LIMIT_MS). */
  readonly parseTimeLimitMs?: number;
}

/** The unprivileged account a root daemon runs QEMU as (scripts/setup.sh creates it). */
export const DEFAULT_QEMU_USER = 'vmkit-qemu';

/** What opening a root found in its run directory. */
export interface OpenReport {
  readonly adopted: string[];
  /** Domains whose QEMU died while no driver watched. */
  readonly diedUnmonitored: string[];
  /** Domains whose start was interrupted; their QEMU was killed. */
  readonly killed: string[];
  /** Store entries that could not be read (left in place). */
  readonly problems: string[];
}

/**
 * The whole vmkit API for one root. In embedded mode the driver runs in this process: QEMU is a child of
 * this process and dies with it. In daemon mode (`detached`) the same driver runs inside `vmkit daemon`.
 * Definitions persist in the root (`<root>/domains`); one driver per root at a time (`<root>/lock`).
 */
export class Connection extends EventEmitter<ConnectionEvents> implements VmConnection, DomainHost {
  readonly uri: string;
  readonly root: string;
  readonly beforeCont?: BeforeCont;
  readonly detached: boolean;
  readonly noSync: boolean;
  readonly hotplugPorts: number;
  /** The account QEMU runs as when a definition names none (see DriverOptions.qemuUser); absent: ours. */
  readonly qemuUser?: string | number;
  readonly imageCacheDir?: string;
  readonly repoDirs?: readonly string[];
  private storageServices: Promise<{ images: ImagesApi; volumes: VolumesApi }> | undefined;
  private imagesApi: ImagesApi | undefined;
  private volumesApi: VolumesApi | undefined;
  private readonly allowRaw: boolean;
  /** Clients that are not root may define raw and privileged options, and name any host path (`allowRaw`). */
  get rawAllowed(): boolean {
    return this.allowRaw;
  }
  private readonly emulators?: readonly string[];
  /** What opening the root found (re-adopted, died, killed). */
  openReport: OpenReport = { adopted: [], diedUnmonitored: [], killed: [], problems: [] };
  private readonly store: DomainStore;
  private readonly domains = new Map<string, Domain>();
  private readonly byUuid = new Map<string, Domain>();
  /** UUIDs claimed by defines in progress. */
  private readonly claimed = new Set<string>();
  /** One job queue per name: shared by the domain and the define/undefine of that name. */
  private readonly queues = new Map<string, JobQueue>();
  /** Status writes not yet finished (see saveStatus). */
  private readonly pendingWrites = new Set<Promise<void>>();
  private readonly live = new Set<VmProcess>();
  /**
   * Sequence numbers start at the current time in microseconds, so they keep growing across daemon
   * restarts and a client can order what it hears from an old and a new daemon.
   */
  private seqCounter = Date.now() * 1000;
  private readonly onExit = (): void => {
    // Synchronous last resort on process exit: QEMU dies through PDEATHSIG; remove its run directories.
    if (this.detached) return;
    for (const vm of this.live) rmSync(vm.runDir.dir, { recursive: true, force: true });
  };
  private closed = false;

  private constructor(opts: DriverOptions, private readonly lock: RootLock | undefined, private readonly parsePool: ParsePool | undefined) {
    super();
    this.root = opts.root;
    this.detached = opts.detached === true;
    this.noSync = opts.noSync === true;
    this.hotplugPorts = opts.hotplugPorts ?? HOTPLUG_ROOT_PORTS;
    this.allowRaw = opts.allowRaw === true;
    if (opts.imageCacheDir !== undefined) this.imageCacheDir = opts.imageCacheDir;
    if (opts.repoDirs !== undefined) this.repoDirs = [...opts.repoDirs];
    if (opts.emulators !== undefined) this.emulators = [...opts.emulators];
    const user = opts.qemuUser === undefined ? (this.detached && process.geteuid?.() === 0 ? DEFAULT_QEMU_USER : null) : opts.qemuUser;
    if (user !== null) this.qemuUser = user;
    this.uri = `embed://${opts.root}`;
    if (opts.beforeCont !== undefined) this.beforeCont = opts.beforeCont;
    this.store = new DomainStore(opts.root, { noSync: this.noSync });
    this.setMaxListeners(0);
    process.on('exit', this.onExit);
  }

  /** Opens (creating if needed) a root: locks it, loads its domains, reconciles its run directory. */
  static async open(opts: DriverOptions): Promise<Connection> {
    if (typeof opts.root !== 'string' || !isAbsolute(opts.root)) {
      throw new VmkitError('InvalidArgument', `Embedded root must be an absolute path, got '${String(opts.root)}'`, { details: { root: opts.root } });
    }
    const ports = opts.hotplugPorts;
    if (ports !== undefined && !(Number.isInteger(ports) && ports >= 0 && ports <= MAX_HOTPLUG_ROOT_PORTS)) {
      throw new VmkitError('InvalidArgument', `hotplugPorts must be a whole number from 0 to ${MAX_HOTPLUG_ROOT_PORTS}, got ${String(ports)}`, { details: { hotplugPorts: ports } });
    }
    await mkdir(opts.root, { recursive: true, mode: 0o700 });
    const lock = opts.unshared === true ? undefined : await RootLock.acquire(opts.root);
    // Worker threads (daemon mode) and re-adoption (a run directory with QEMUs in it) load only when used.
    const pool = (opts.parseThreads ?? 0) > 0 ? new (await import('./parse-pool.js')).ParsePool(opts.parseThreads, opts.parseTimeLimitMs === undefined ? {} : { timeLimitMs: opts.parseTimeLimitMs }) : undefined;
    const conn = new Connection(opts, lock, pool);
    try {
      const { domains, problems } = await conn.store.loadAll();
      for (const d of domains) conn.add(new Domain(d.record, conn, conn.queueFor(d.record.name), d.status));
      const found = await reconcileRunDirs(opts.root);
      conn.openReport = { ...(await conn.reconcile(found)), problems };
    } catch (e) {
      await conn.close();
      throw e;
    }
    return conn;
  }

  /**
   * Defines a domain, or redefines a shut-off one (keeping its UUID). The definition is stored before
   * this resolves; nothing is started or probed (no process is forked).
   */
  async define(input: DefinitionInput | DomainSpec, opts: DefineOptions = {}): Promise<Domain> {
    this.requireOpen();
    const parsed = await readDefinition(input, this.parsePool);
    const name = parsed.spec.name;
    checkDomainName(name);
    if (opts.caller !== undefined && opts.caller.uid !== 0 && !this.allowRaw) await this.checkPrivileges(parsed, opts.caller.uid);
    const policiesUpdate = opts.policies;
    if (policiesUpdate !== undefined) resolvePolicies(policiesUpdate); // fail before queueing
    return this.queueFor(name).run('define', () => this.defineQueued(name, parsed, opts)).finally(() => this.dropQueue(name));
  }

  /** Refuses (PermissionDenied) what a client that is not root may not define, naming each field and the rule. */
  private async checkPrivileges(parsed: ParsedDefinition, uid: number): Promise<void> {
    const [{ privilegedOptions }, { definitionLocator, displayPath }, { specLocator }] = await Promise.all([
      import('./privileged-options.js'),
      import('../host/caps/locate-field.js'),
      import('../host/caps/locate-spec.js'),
    ]);
    const found = privilegedOptions(parsed.spec, { root: this.root, ...(this.qemuUser === undefined ? {} : { qemuUser: this.qemuUser }), ...(this.emulators === undefined ? {} : { emulators: this.emulators }) });
    if (found.length === 0) return;
    // The pointers are the YAML formats' own keys; libvirt XML maps them to the element they came from.
    const locate =
      parsed.format === 'vmkit-spec' ? undefined : parsed.format === 'libvirt-xml' ? specLocator(parsed.spec, parsed.text, parsed.file) : definitionLocator(parsed.text, parsed.file);
    const problems: Problem[] = found.map(({ pointer, ...p }) => {
      const pos = locate?.(pointer);
      return { ...(parsed.file === undefined ? {} : { file: parsed.file }), ...(pos === undefined ? {} : { line: pos.line, col: pos.col }), path: pos?.path ?? displayPath(pointer), ...p };
    });
    throw new VmkitError('PermissionDenied', `Client uid ${uid} may not define domain '${parsed.spec.name}' as written:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`, {
      details: { uid, problems },
    });
  }

  /** Defines each item as `define` would, all at once; every item gets its own outcome, in order. */
  defineMany(items: readonly DefineItem[]): Promise<DefineOutcome<Domain>[]> {
    return Promise.all(
      items.map((it) =>
        this.define(it.input, it.opts).then(
          (domain): DefineOutcome<Domain> => ({ ok: true, domain }),
          (e: unknown): DefineOutcome<Domain> => ({ ok: false, error: e instanceof VmkitError ? e : new VmkitError('Internal', `Cannot define: ${(e as Error).message}`, { cause: e }) }),
        ),
      ),
    );
  }

  private async defineQueued(name: string, parsed: ParsedDefinition, opts: DefineOptions): Promise<Domain> {
    const policiesUpdate = opts.policies;
    this.requireOpen();
    const existing = this.domains.get(name);
    const wanted = parsed.spec.uuid?.toLowerCase();
    if (existing !== undefined && wanted !== undefined && wanted !== existing.uuid) {
      throw new VmkitError('AlreadyExists', `Domain '${name}' already exists with UUID ${existing.uuid}, but the definition says ${wanted}: remove the uuid, or undefine '${name}' first`, {
        details: { name, uuid: existing.uuid, wanted },
      });
    }
    const uuid = existing?.uuid ?? wanted ?? randomUUID();
    const owner = this.byUuid.get(uuid);
    if ((owner !== undefined && owner !== existing) || (existing === undefined && this.claimed.has(uuid))) {
      throw new VmkitError('AlreadyExists', `UUID ${uuid} is already used by domain '${owner?.name ?? '(being defined)'}': give '${name}' another uuid or none`, {
        details: { name, uuid, owner: owner?.name },
      });
    }
    if (existing !== undefined && existing.state() !== 'shutoff') {
      throw new VmkitError('InvalidState', `Cannot redefine domain '${name}': it is ${existing.state()}, and redefine needs shutoff`, {
        details: { domain: name, state: existing.state(), allowed: ['shutoff'] },
      });
    }
    const now = new Date().toISOString();
    const record: StoredDomain = deepFreeze({
      version: STORE_VERSION,
      name,
      uuid,
      format: parsed.format,
      text: parsed.text,
      ...(parsed.file === undefined ? {} : { file: parsed.file }),
      ...(parsed.baseDir === undefined ? {} : { baseDir: parsed.baseDir }),
      spec: parsed.spec.uuid === uuid ? parsed.spec : { ...parsed.spec, uuid },
      autostart: opts.autostart ?? existing?.record.autostart ?? false,
      policies: resolvePolicies(policiesUpdate, definedPolicies(parsed.spec, existing?.record.policies)),
      createdAt: existing?.record.createdAt ?? now,
      updatedAt: now,
    });
    this.claimed.add(uuid);
    try {
      await this.store.save(record);
    } finally {
      this.claimed.delete(uuid);
    }
    if (existing !== undefined) {
      existing.redefine(record);
      this.publish(existing, 'defined', { reason: 'updated' });
      return existing;
    }
    const domain = new Domain(record, this, this.queueFor(name));
    this.add(domain);
    this.publish(domain, 'defined', { reason: 'new' });
    return domain;
  }

  /** Removes a shut-off domain's definition (by name or UUID). */
  async undefine(nameOrUuid: string): Promise<void> {
    this.requireOpen();
    const d = this.lookup(nameOrUuid);
    await this.queueFor(d.name).run('undefine', async () => {
      if (this.domains.get(d.name) !== d) {
        throw new VmkitError('NotFound', `No domain named '${nameOrUuid}' in ${this.uri}`, { details: { name: nameOrUuid } });
      }
      if (d.state() !== 'shutoff') {
        throw new VmkitError('InvalidState', `Cannot undefine domain '${d.name}': it is ${d.state()}, and undefine needs shutoff`, {
          details: { domain: d.name, state: d.state(), allowed: ['shutoff'] },
        });
      }
      await this.store.remove(d.name);
      this.domains.delete(d.name);
      this.byUuid.delete(d.uuid);
      d.markRemoved();
      this.publish(d, 'undefined');
    });
    this.dropQueue(d.name);
  }

  /** The domain with this name or UUID; throws NotFound. */
  lookup(nameOrUuid: string): Domain {
    const d = this.domains.get(nameOrUuid) ?? this.byUuid.get(String(nameOrUuid).toLowerCase());
    if (d === undefined) throw new VmkitError('NotFound', `No domain named '${nameOrUuid}' in ${this.uri}`, { details: { name: nameOrUuid } });
    return d;
  }

  list(): Domain[] {
    return [...this.domains.values()];
  }

  /** Template repositories and the image cache (virt-builder compatible); loaded on first use. */
  get images(): ImagesApi {
    return (this.imagesApi ??= lazyApi<ImagesApi>(() => this.storage().then((s) => s.images), IMAGE_METHODS));
  }

  /** Volumes of this root (`<root>/volumes`); loaded on first use. */
  get volumes(): VolumesApi {
    return (this.volumesApi ??= lazyApi<VolumesApi>(() => this.storage().then((s) => s.volumes), VOLUME_METHODS));
  }

  private storage(): Promise<{ images: ImagesApi; volumes: VolumesApi }> {
    this.storageServices ??= import('./storage-host.js').then((m) => m.openStorage(this));
    this.storageServices.catch(() => {
      this.storageServices = undefined;
    });
    return this.storageServices;
  }

  /** Every domain as plain data, with the sequence number they are consistent with. */
  snapshot(): { seq: number; domains: DomainInfo[] } {
    return { seq: this.seqCounter, domains: this.list().map((d) => d.snapshot()) };
  }

  /** Starts the definition parser threads (if any) and warms them up with `sample`. */
  async warmParsers(sample: string): Promise<void> {
    await this.parsePool?.warm(sample);
  }

  /** Starts every shut-off domain marked autostart, in parallel. Returns the names started and the failures. */
  async autostart(): Promise<{ started: string[]; failed: { name: string; error: VmkitError | Error }[] }> {
    const wanted = this.list().filter((d) => d.record.autostart && (d.state() === 'shutoff' || d.state() === 'saved'));
    const started: string[] = [];
    const failed: { name: string; error: VmkitError | Error }[] = [];
    await Promise.all(
      wanted.map(async (d) => {
        try {
          await d.start();
          started.push(d.name);
        } catch (e) {
          failed.push({ name: d.name, error: e as Error });
        }
      }),
    );
    return { started, failed };
  }

  /**
   * Embedded: destroys every running domain and releases the root. Daemon mode: lets go of the running
   * QEMUs without stopping them (a later daemon re-adopts them) and releases the root.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.detached) await Promise.all(this.list().map((d) => d.release()));
    else await Promise.all([...this.live].map((vm) => vm.kill()));
    await Promise.allSettled([...this.pendingWrites]);
    process.off('exit', this.onExit);
    await this.parsePool?.close();
    await this.lock?.release();
  }

  // ---- DomainHost --------------------------------------------------------------------------------------

  pinnedCpus(except: string): number[] {
    return this.list().flatMap((d) => (d.name === except ? [] : d.pins));
  }

  track(vm: VmProcess): void {
    this.live.add(vm);
  }

  untrack(vm: VmProcess): void {
    this.live.delete(vm);
  }

  nextSeq(): number {
    return ++this.seqCounter;
  }

  publish(domain: Domain, type: LifecycleEventType, extra: Partial<LifecycleEvent> = {}): void {
    const event: LifecycleEvent = {
      type,
      domain: domain.name,
      uuid: domain.uuid,
      state: domain.state(),
      time: new Date().toISOString(),
      ...extra,
      seq: domain.seq,
    };
    this.emit('event', event);
  }

  /**
   * Removes the cpuset groups of VMs that are gone. Needed after a re-adopted, tuned QEMU ends (the undo
   * of its tuning lived in the daemon that started it). Best effort, in the background.
   */
  sweepCgroups(): void {
    void (async () => {
      const { detectCpuset, sweepCgroups } = await import('../tuning/index.js');
      await sweepCgroups(await detectCpuset());
    })().catch(() => undefined);
  }

  saveRecord(record: StoredDomain): Promise<void> {
    return this.store.save(record);
  }

  saveStatus(name: string, status: StoredStatus): Promise<void> {
    const write = this.store.saveStatus(name, status);
    // close() waits for these: a status written after the root is removed would recreate it half-way.
    this.pendingWrites.add(write);
    const done = (): void => {
      this.pendingWrites.delete(write);
    };
    write.then(done, done);
    return write;
  }

  // ---- internals ---------------------------------------------------------------------------------------

  private add(d: Domain): void {
    this.domains.set(d.name, d);
    this.byUuid.set(d.uuid, d);
  }

  private queueFor(name: string): JobQueue {
    let q = this.queues.get(name);
    if (q === undefined) {
      q = new JobQueue();
      this.queues.set(name, q);
    }
    return q;
  }

  private dropQueue(name: string): void {
    const q = this.queues.get(name);
    if (q !== undefined && q.size === 0 && !this.domains.has(name)) this.queues.delete(name);
  }

  /** Re-adopts live QEMUs and records the ones that died or whose start was interrupted. */
  private async reconcile(found: ReconcileResult): Promise<Omit<OpenReport, 'problems'>> {
    const adopted: string[] = [];
    const died: string[] = [];
    await Promise.all(
      found.adopt.map(async (rec) => {
        const d = this.domains.get(rec.name);
        let vm: AdoptedQemu | undefined;
        // Loaded only when there is a QEMU to re-adopt (a daemon's restart): `vmkit list` has none.
        const { AdoptedQemu } = await import('./adopted-qemu.js');
        try {
          if (d === undefined || d.uuid !== rec.uuid) throw new Error('no such domain');
          vm = await AdoptedQemu.attach(rec);
          await d.adopt(vm);
          adopted.push(rec.name);
        } catch (e) {
          // Not adoptable (no definition, or QMP does not answer): stop it rather than leave it unmanaged.
          await vm?.release().catch(() => undefined);
          try {
            if (await AdoptedQemu.alive(rec)) process.kill(rec.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
          if (d !== undefined) {
            await d.recordUnmonitoredStop({
              reason: 'crashed',
              exitCode: null,
              signal: null,
              requested: false,
              stderrTail: [],
              message: `QEMU (pid ${rec.pid}) could not be re-adopted (${(e as Error).message}); it was killed`,
            });
          }
        }
      }),
    );
    if ([...found.died, ...found.adopt].some((r) => r.tuned)) this.sweepCgroups();
    for (const rec of found.died) {
      const d = this.domains.get(rec.name);
      if (d === undefined || d.uuid !== rec.uuid) continue;
      died.push(rec.name);
      await d.recordUnmonitoredStop({
        reason: 'crashed',
        exitCode: null,
        signal: null,
        requested: false,
        stderrTail: [],
        message: `crashed while unmonitored: QEMU (pid ${rec.pid}) exited while no vmkit daemon was watching`,
      });
    }
    for (const k of found.killed) {
      const d = this.domains.get(k.name);
      if (d === undefined) continue;
      await d.recordUnmonitoredStop({
        reason: 'failed',
        exitCode: null,
        signal: 'SIGKILL',
        requested: false,
        stderrTail: [],
        message: `start interrupted: the driver stopped before QEMU (pid ${k.pid}) was fully started, so QEMU was killed`,
      });
    }
    return { adopted: adopted.sort(), diedUnmonitored: died.sort(), killed: found.killed.map((k) => k.name).sort() };
  }

  private requireOpen(): void {
    if (this.closed) throw new VmkitError('InvalidState', `Connection ${this.uri} is closed`);
  }
}

/** Opens an embedded connection: `openEmbedded({ root: '/abs/dir' })`. */
export function openEmbedded(opts: EmbeddedOptions): Promise<Connection> {
  return Connection.open(opts);
}
