/**
 * The client Connection: the same interface as the embedded driver, over the daemon's unix socket.
 *
 * It keeps a mirror of the daemon's domains (name, uuid, state, pid, last stop) fed by the event stream
 * (whose first line is a snapshot) and by the replies to its own calls, so `lookup`, `list` and `state()`
 * stay synchronous. Every snapshot, reply and event carries the daemon's sequence number; the mirror only
 * moves forward. The stream reconnects by itself (with back-off) when the daemon restarts.
 */
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import type { Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import type {
  ConnectionEvents,
  DefineItem,
  DefineOptions,
  DefineOutcome,
  DefinitionInputLike,
  DefinitionText,
  DestroyOptions,
  DomainHandleEvents,
  DomainInfo,
  DomainState,
  DomainUpdate,
  LifecycleEvent,
  ShutdownOptions,
  StartOptions,
  StopInfo,
  VmConnection,
  VmDomain,
} from '../driver/api-types.js';
import { readDefinitionText } from '../config/definition-text.js';
import type { DomainStats } from '../observe/types.js';
import { VmkitError } from '../errors.js';
import { errorFromBody, httpStatusFor, type ErrorBody } from './http-errors.js';
import { Transport } from './transport.js';
import { RemoteImages, RemoteVolumes } from './client-storage.js';

interface MirrorFacts {
  readonly name: string;
  readonly uuid: string;
  readonly state: DomainState;
  readonly seq: number;
  readonly pid?: number | undefined;
  readonly lastStop?: StopInfo | undefined;
}

export interface DaemonStatus {
  readonly pid: number;
  readonly version: string;
  readonly root: string;
  readonly socket: string;
  readonly uptimeMs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly domains: { readonly defined: number; readonly running: number };
  readonly clients: { readonly connections: number; readonly eventStreams: number; readonly consoles: number };
  readonly eventLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number; readonly mean: number; readonly samples: number; readonly since: string };
}

export interface RemoteOptions {
  /** Bound on opening the connection (the first snapshot). Default 10 s. */
  readonly timeoutMs?: number;
}

export class RemoteConnection extends EventEmitter<ConnectionEvents> implements VmConnection {
  readonly uri: string;
  /** @internal */
  readonly transport: Transport;
  private readonly domains = new Map<string, RemoteDomain>();
  private readonly tombstones = new Map<string, number>();
  private stream: { req: http.ClientRequest; res: http.IncomingMessage } | undefined;
  private closed = false;
  private retryMs = 100;
  private retryTimer: NodeJS.Timeout | undefined;
  private storageApis: { images: RemoteImages; volumes: RemoteVolumes } | undefined;

  private constructor(readonly socketPath: string) {
    super();
    this.uri = `unix://${socketPath}`;
    this.transport = new Transport(socketPath);
    this.setMaxListeners(0);
  }

  /** Connects to the daemon at `socketPath` and waits for its first snapshot. */
  static async open(socketPath: string, opts: RemoteOptions = {}): Promise<RemoteConnection> {
    const c = new RemoteConnection(socketPath);
    try {
      await c.openStream(opts.timeoutMs ?? 10_000);
    } catch (e) {
      await c.close();
      throw e;
    }
    return c;
  }

  async define(input: DefinitionInputLike, opts: DefineOptions = {}): Promise<RemoteDomain> {
    this.requireOpen();
    const info = await this.transport.request<DomainInfo>('POST', '/v1/domains', await defineBody({ input, opts }));
    return this.applyInfo(info);
  }

  /**
   * Defines many domains in few requests (POST /v1/batch/define, at most DEFINE_BATCH_ITEMS definitions
   * and about DEFINE_BATCH_BYTES of JSON each); outcomes in the order of `items`.
   */
  async defineMany(items: readonly DefineItem[]): Promise<DefineOutcome<RemoteDomain>[]> {
    this.requireOpen();
    const out: DefineOutcome<RemoteDomain>[] = new Array(items.length);
    const batches: { at: number[]; bodies: object[]; bytes: number }[] = [];
    let batch: (typeof batches)[number] | undefined;
    const bodies = await Promise.all(items.map((it) => defineBody(it).then((b) => ({ b }), (e: unknown) => ({ e: asError(e) }))));
    bodies.forEach((r, i) => {
      if ('e' in r) {
        out[i] = { ok: false, error: r.e };
        return;
      }
      const bytes = Buffer.byteLength(JSON.stringify(r.b));
      if (batch === undefined || batch.at.length >= DEFINE_BATCH_ITEMS || (batch.bytes + bytes > DEFINE_BATCH_BYTES && batch.at.length > 0)) {
        batch = { at: [], bodies: [], bytes: 0 };
        batches.push(batch);
      }
      batch.at.push(i);
      batch.bodies.push(r.b);
      batch.bytes += bytes;
    });
    await Promise.all(
      batches.map(async (b) => {
        let results: ({ domain: DomainInfo } | ErrorBody)[];
        try {
          results = (await this.transport.request<{ results: ({ domain: DomainInfo } | ErrorBody)[] }>('POST', '/v1/batch/define', { definitions: b.bodies })).results;
        } catch (e) {
          for (const i of b.at) out[i] = { ok: false, error: asError(e) };
          return;
        }
        b.at.forEach((i, k) => {
          const r = results[k];
          if (r !== undefined && 'domain' in r) out[i] = { ok: true, domain: this.applyInfo(r.domain) };
          else out[i] = { ok: false, error: errorFromBody(r === undefined ? 500 : httpStatusFor(r.error.code), r) };
        });
      }),
    );
    return out;
  }

  async undefine(nameOrUuid: string): Promise<void> {
    this.requireOpen();
    const name = this.find(nameOrUuid)?.name ?? nameOrUuid;
    const r = await this.transport.request<{ name: string; seq: number }>('DELETE', `/v1/domains/${encodeURIComponent(name)}`);
    this.remove(r.name, r.seq);
  }

  lookup(nameOrUuid: string): RemoteDomain {
    const d = this.find(nameOrUuid);
    if (d === undefined) throw new VmkitError('NotFound', `No domain named '${nameOrUuid}' in ${this.uri}`, { details: { name: nameOrUuid } });
    return d;
  }

  list(): RemoteDomain[] {
    return [...this.domains.values()];
  }

  /** Every domain as the daemon sees it now (and the mirror is brought up to date). */
  async refresh(): Promise<DomainInfo[]> {
    const snap = await this.transport.request<{ seq: number; domains: DomainInfo[] }>('GET', '/v1/domains');
    this.applySnapshot(snap.seq, snap.domains, false);
    return snap.domains;
  }

  /** Template repositories and the daemon's image cache. */
  get images(): RemoteImages {
    return (this.storageApis ??= { images: new RemoteImages(this.transport), volumes: new RemoteVolumes(this.transport) }).images;
  }

  /** Volumes of the daemon's root. */
  get volumes(): RemoteVolumes {
    return (this.storageApis ??= { images: new RemoteImages(this.transport), volumes: new RemoteVolumes(this.transport) }).volumes;
  }

  /** The daemon's own figures: memory, event-loop delay, clients. */
  daemonStatus(): Promise<DaemonStatus> {
    return this.transport.request<DaemonStatus>('GET', '/v1/daemon');
  }

  /** One statistics sample of every running domain (GET /v1/stats: one request). */
  async allStats(): Promise<DomainStats[]> {
    return (await this.transport.request<{ domains: DomainStats[] }>('GET', '/v1/stats')).domains;
  }

  /** Restarts the daemon's event-loop delay histogram (benchmarks). */
  resetDaemonStats(): Promise<DaemonStatus> {
    return this.transport.request<DaemonStatus>('POST', '/v1/daemon/reset-stats', {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.stream?.req.destroy();
    this.stream = undefined;
    for (const d of this.domains.values()) d.closeConsole();
    this.transport.close();
  }

  // ---- mirror ------------------------------------------------------------------------------------------

  /** @internal Brings the mirror up to `info` (if newer) and returns the domain's handle. */
  applyInfo(info: DomainInfo): RemoteDomain {
    return this.upsert({ name: info.name, uuid: info.uuid, state: info.state, seq: info.seq, pid: info.pid, lastStop: info.lastStop }, false) ?? this.lookup(info.name);
  }

  private find(nameOrUuid: string): RemoteDomain | undefined {
    const byName = this.domains.get(nameOrUuid);
    if (byName !== undefined) return byName;
    const id = String(nameOrUuid).toLowerCase();
    for (const d of this.domains.values()) if (d.uuid === id) return d;
    return undefined;
  }

  private upsert(f: MirrorFacts, fromStream: boolean): RemoteDomain | undefined {
    const tomb = this.tombstones.get(f.name);
    if (tomb !== undefined) {
      if (f.seq <= tomb) return undefined;
      this.tombstones.delete(f.name);
    }
    let d = this.domains.get(f.name);
    if (d === undefined) {
      d = new RemoteDomain(this, f);
      this.domains.set(f.name, d);
      return d;
    }
    d.apply(f, fromStream);
    return d;
  }

  private remove(name: string, seq: number): void {
    const d = this.domains.get(name);
    if (d !== undefined && d.seq > seq) return; // a newer definition already replaced it
    this.tombstones.set(name, Math.max(seq, this.tombstones.get(name) ?? 0));
    if (d !== undefined) {
      this.domains.delete(name);
      d.markRemoved();
    }
  }

  private applySnapshot(seq: number, infos: readonly DomainInfo[], fromStream: boolean): void {
    const seen = new Set<string>();
    for (const info of infos) {
      seen.add(info.name);
      this.upsert({ name: info.name, uuid: info.uuid, state: info.state, seq: info.seq, pid: info.pid, lastStop: info.lastStop }, fromStream);
    }
    for (const d of [...this.domains.values()]) if (!seen.has(d.name) && d.seq < seq) this.remove(d.name, seq);
  }

  private applyEvent(ev: LifecycleEvent): void {
    if (ev.type === 'undefined') {
      this.remove(ev.domain, ev.seq);
    } else {
      const d = this.upsert(
        {
          name: ev.domain,
          uuid: ev.uuid,
          state: ev.state,
          seq: ev.seq,
          ...(ev.type === 'started' ? { pid: ev.pid } : {}),
          ...(ev.type === 'stopped' ? { pid: undefined, lastStop: ev.stop } : {}),
        },
        true,
      );
      (d ?? this.domains.get(ev.domain))?.deliver(ev);
    }
    this.emit('event', ev);
  }

  // ---- event stream ------------------------------------------------------------------------------------

  private openStream(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolveOpen, rejectOpen) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.stream?.req.destroy();
        rejectOpen(new VmkitError('Timeout', `The vmkit daemon at ${this.socketPath} sent no snapshot within ${timeoutMs} ms`));
      }, timeoutMs);
      this.transport.stream('/v1/events', timeoutMs).then(
        (s) => {
          if (this.closed) {
            s.req.destroy();
            return;
          }
          this.stream = s;
          let buffered = '';
          s.res.setEncoding('utf8');
          s.res.on('data', (chunk: string) => {
            buffered += chunk;
            let nl: number;
            while ((nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl);
              buffered = buffered.slice(nl + 1);
              if (line.trim() === '') continue;
              let msg: { type: string; seq: number; domains?: DomainInfo[]; domain?: string };
              try {
                msg = JSON.parse(line) as typeof msg;
              } catch {
                continue;
              }
              // The stream's state snapshot (every domain), not a domain's 'snapshot' event (vmops), which names its domain.
              if (msg.type === 'snapshot' && msg.domain === undefined) {
                this.applySnapshot(msg.seq, msg.domains ?? [], true);
                this.retryMs = 100;
                if (!settled) {
                  settled = true;
                  clearTimeout(timer);
                  resolveOpen();
                }
              } else {
                this.applyEvent(msg as unknown as LifecycleEvent);
              }
            }
          });
          const lost = (): void => {
            if (this.stream === s) this.stream = undefined;
            if (!settled) {
              settled = true;
              clearTimeout(timer);
              rejectOpen(new VmkitError('HostError', `The vmkit daemon at ${this.socketPath} closed the event stream`));
              return;
            }
            this.scheduleReconnect();
          };
          s.res.once('end', lost);
          s.res.once('error', lost);
          s.res.once('close', lost);
        },
        (e: unknown) => {
          if (settled) {
            this.scheduleReconnect();
            return;
          }
          settled = true;
          clearTimeout(timer);
          rejectOpen(e);
        },
      );
    });
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 2000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      this.openStream(10_000).catch(() => this.scheduleReconnect());
    }, delay);
    this.retryTimer.unref();
  }

  private requireOpen(): void {
    if (this.closed) throw new VmkitError('InvalidState', `Connection ${this.uri} is closed`);
  }
}

/** A domain of the daemon: every call goes over the socket; state and events come from the mirror. */
export class RemoteDomain extends EventEmitter<DomainHandleEvents> implements VmDomain {
  readonly name: string;
  private uuidV: string;
  private st: DomainState;
  private pidV: number | undefined;
  private lastStopV: StopInfo | undefined;
  private removed = false;
  private consoleSocket: Promise<Socket> | undefined;
  seq: number;

  constructor(private readonly conn: RemoteConnection, f: MirrorFacts) {
    super();
    this.setMaxListeners(0);
    this.name = f.name;
    this.uuidV = f.uuid;
    this.st = f.state;
    this.pidV = f.pid;
    this.lastStopV = f.lastStop;
    this.seq = f.seq;
    const raw = this as EventEmitter;
    raw.on('newListener', (event: string | symbol) => {
      if (event === 'console') void this.openConsole().catch(() => undefined);
    });
    raw.on('removeListener', (event: string | symbol) => {
      if (event === 'console' && this.listenerCount('console') === 0) this.closeConsole();
    });
  }

  get uuid(): string {
    return this.uuidV;
  }

  state(): DomainState {
    return this.st;
  }

  get pid(): number | undefined {
    return this.pidV;
  }

  /** How the last run ended, as last heard. */
  get lastStop(): StopInfo | undefined {
    return this.lastStopV;
  }

  get isRemoved(): boolean {
    return this.removed;
  }

  async info(): Promise<DomainInfo> {
    const info = await this.call<DomainInfo>('GET', '');
    this.conn.applyInfo(info);
    return info;
  }

  definition(): Promise<DefinitionText> {
    return this.call<DefinitionText>('GET', '/definition');
  }

  async start(opts: StartOptions = {}): Promise<void> {
    const body = { ...(opts.paused === undefined ? {} : { paused: opts.paused }), ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) };
    this.conn.applyInfo(await this.call<DomainInfo>('POST', '/start', body, (opts.timeoutMs ?? 30_000) + 120_000));
  }

  async shutdown(opts: ShutdownOptions = {}): Promise<StopInfo> {
    const r = await this.call<{ stop: StopInfo; domain: DomainInfo }>('POST', '/shutdown', opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }, (opts.timeoutMs ?? 60_000) + 120_000);
    this.conn.applyInfo(r.domain);
    return r.stop;
  }

  async destroy(opts: DestroyOptions = {}): Promise<StopInfo> {
    const r = await this.call<{ stop: StopInfo; domain: DomainInfo }>('POST', '/destroy', opts.graceMs === undefined ? {} : { graceMs: opts.graceMs });
    this.conn.applyInfo(r.domain);
    return r.stop;
  }

  async reboot(): Promise<void> {
    this.conn.applyInfo(await this.call<DomainInfo>('POST', '/reboot', {}));
  }

  async suspend(): Promise<void> {
    this.conn.applyInfo(await this.call<DomainInfo>('POST', '/suspend', {}));
  }

  async resume(): Promise<void> {
    this.conn.applyInfo(await this.call<DomainInfo>('POST', '/resume', {}));
  }

  async update(change: DomainUpdate): Promise<DomainInfo> {
    const info = await this.call<DomainInfo>('PATCH', '', change);
    this.conn.applyInfo(info);
    return info;
  }

  /** One statistics sample (GET /v1/domains/{id}/stats). */
  stats(): Promise<DomainStats> {
    return this.call<DomainStats>('GET', '/stats');
  }

  /** Resolves when the current run ends (at once with the last stop when shut off). */
  waitStopped(): Promise<StopInfo | undefined> {
    if (this.st === 'shutoff' || this.removed) return Promise.resolve(this.lastStopV);
    return new Promise((resolve) => this.once('stopped', resolve));
  }

  /** Sends input to the guest's serial console (the console stream opens on first use). */
  writeConsole(data: string | Buffer): void {
    this.openConsole().then(
      (s) => s.write(data),
      () => undefined,
    );
  }

  /**
   * The raw console stream (both directions); one per handle, shared with 'console' listeners. With
   * `replay`, the stream starts with the output kept from before (the daemon keeps the last 256 KiB), when
   * this call opens it.
   */
  openConsole(opts: { replay?: boolean } = {}): Promise<Socket> {
    if (this.consoleSocket !== undefined) return this.consoleSocket;
    const path = `/v1/domains/${encodeURIComponent(this.name)}/console${opts.replay === true ? '?replay=1' : ''}`;
    const p = this.conn.transport.upgrade(path, 'vmkit-console').then((s) => {
      s.on('data', (chunk: Buffer) => this.emit('console', chunk));
      s.on('error', () => undefined);
      s.once('close', () => {
        if (this.consoleSocket === p) this.consoleSocket = undefined;
      });
      return s;
    });
    this.consoleSocket = p;
    p.catch(() => {
      if (this.consoleSocket === p) this.consoleSocket = undefined;
    });
    return p;
  }

  /** @internal */
  closeConsole(): void {
    const p = this.consoleSocket;
    this.consoleSocket = undefined;
    void p?.then((s) => s.destroy(), () => undefined);
  }

  /** @internal */
  apply(f: MirrorFacts, fromStream: boolean): void {
    if (f.seq <= this.seq) return;
    const before = this.st;
    this.seq = f.seq;
    this.uuidV = f.uuid;
    this.st = f.state;
    if ('pid' in f) this.pidV = f.pid;
    if (f.state === 'shutoff') this.pidV = undefined;
    if (f.lastStop !== undefined) this.lastStopV = f.lastStop;
    if (before !== f.state) {
      this.emit('state', f.state);
      // A snapshot after a reconnect may reveal a stop whose event was missed.
      if (fromStream && f.state === 'shutoff' && before !== 'shutoff' && 'lastStop' in f && f.lastStop !== undefined && this.listenerCount('stopped') > 0) {
        this.emit('stopped', f.lastStop);
      }
    }
  }

  /** @internal Delivers a lifecycle event to this handle's listeners. */
  deliver(ev: LifecycleEvent): void {
    switch (ev.type) {
      case 'started':
        this.emit('started', { pid: ev.pid ?? -1 });
        break;
      case 'stopped':
        if (ev.stop !== undefined) {
          this.lastStopV = ev.stop;
          this.emit('stopped', ev.stop);
        }
        break;
      case 'suspended':
        this.emit('suspended', { reason: ev.reason ?? 'user' });
        break;
      case 'resumed':
        this.emit('resumed');
        break;
      case 'rebooted':
        this.emit('rebooted');
        break;
      case 'crashed':
        this.emit('crashed', { reason: ev.reason ?? 'crashed', message: ev.message ?? '' });
        break;
      default:
        break;
    }
  }

  /** @internal */
  markRemoved(): void {
    this.removed = true;
    this.closeConsole();
  }

  private call<T>(method: string, suffix: string, body?: unknown, timeoutMs?: number): Promise<T> {
    return this.conn.transport.request<T>(method, `/v1/domains/${encodeURIComponent(this.name)}${suffix}`, body, timeoutMs === undefined ? {} : { timeoutMs });
  }
}

/** The request body for a definition: the client reads files itself (the daemon may not share its cwd). */
/** Most definitions in one batch request, and about the most bytes of definition text (the daemon reads 10 MiB). */
export const DEFINE_BATCH_ITEMS = 256;
export const DEFINE_BATCH_BYTES = 6 * 1024 * 1024;

async function defineBody({ input, opts = {} }: DefineItem): Promise<{ text: string; file?: string; baseDir: string; autostart?: boolean; policies?: DefineOptions['policies'] }> {
  return { ...(await definitionBody(input)), ...(opts.autostart === undefined ? {} : { autostart: opts.autostart }), ...(opts.policies === undefined ? {} : { policies: opts.policies }) };
}

function asError(e: unknown): VmkitError {
  return e instanceof VmkitError ? e : new VmkitError('Internal', (e as Error).message, { cause: e });
}

async function definitionBody(input: DefinitionInputLike): Promise<{ text: string; file?: string; baseDir: string }> {
  if ('spec' in input) {
    throw new VmkitError('InvalidArgument', 'Over the daemon, define a domain from its definition text or file (a DomainSpec object is accepted only by embedded connections)');
  }
  if ('path' in input) {
    const file = resolve(input.path);
    return { text: await readDefinitionText(file), file, baseDir: dirname(file) };
  }
  const file = input.file === undefined ? undefined : resolve(input.file);
  return { text: input.text, ...(file === undefined ? {} : { file }), baseDir: input.baseDir ?? (file === undefined ? process.cwd() : dirname(file)) };
}
