/**
 * Live migration between two vmkit drivers (two daemons, or two embedded roots in one process):
 * 1. the source sends its stored definition and the run's hot state to the destination
 *    (POST /v1/migrations/incoming), which defines the domain (with the caller's privileges), starts QEMU
 *    with `-incoming defer` (tuning re-planned for its own host, as at any start) and listens with
 *    `migrate-incoming tcp:127.0.0.1:0`; it answers with the port QEMU took;
 * 2. the source sets the capabilities (auto-converge, postcopy-ram: both sides), runs `migrate` and reports
 *    progress (`progress` events) until `completed`; with post-copy it switches once pre-copy is under way;
 * 3. the source tells the destination the outcome (…/finish): on success the destination lets the guest
 *    run and the source's QEMU quits (its domain ends `shutoff`, stop reason `migrated`); on failure or cancel
 *    the destination's QEMU is stopped and the source's guest keeps running.
 */
import { VmkitError } from '../errors.js';
import type { Connection } from '../driver/connection.js';
import type { Domain, IncomingRun } from '../driver/domain.js';
import type { DomainInfo, DefineOptions } from '../driver/api-types.js';
import type { QmpClient } from '../qmp/index.js';
import { checkHot } from './hotplug-args.js';
import { watchMigration } from './migrate-progress.js';
import { NO_HOT, type HotState, type JobProgress } from './types.js';

export interface MigrateOptions {
  /** Throttle the guest's vCPUs when pre-copy does not converge (QEMU auto-converge). */
  readonly autoConverge?: boolean;
  /** Switch to post-copy after the first pre-copy pass (needs userfaultfd on the destination host). */
  readonly postcopy?: boolean;
  /** Bandwidth cap in MiB/s (QEMU max-bandwidth); absent: QEMU's default. */
  readonly bandwidthMiBs?: number;
  /** Bound on the whole migration (default 10 min); then it is cancelled. */
  readonly timeoutMs?: number;
  readonly onProgress?: (p: JobProgress) => void;
}

export interface MigrateResult {
  readonly to: string;
  readonly progress: JobProgress;
  readonly destination?: DomainInfo;
}

export interface IncomingRequest {
  readonly text: string;
  readonly file?: string;
  readonly baseDir?: string;
  readonly hot?: unknown;
  readonly postcopy?: boolean;
}

/** Where a migration goes: another connection in this process, or a daemon's socket. */
export interface MigrationTarget {
  readonly uri: string;
  prepare(req: IncomingRequest): Promise<{ name: string; uri: string }>;
  finish(name: string, ok: boolean): Promise<DomainInfo | undefined>;
  close(): Promise<void>;
}

/** Incoming migrations under way on this connection, by domain name. */
const incoming = new WeakMap<Connection, Map<string, Incoming>>();

interface Incoming {
  readonly started: Promise<void>;
  settle(ok: boolean): void;
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * Destination, step 1: defines the domain and starts QEMU waiting for the stream; resolves with the URI the
 * source migrates to. The start finishes in finishIncoming.
 */
export async function prepareIncoming(conn: Connection, req: IncomingRequest, opts: Pick<DefineOptions, 'caller'> = {}): Promise<{ name: string; uri: string }> {
  const existing = new Set(conn.list());
  const d = (await conn.define({ text: req.text, ...(req.file === undefined ? {} : { file: req.file }), ...(req.baseDir === undefined ? {} : { baseDir: req.baseDir }) }, opts)) as Domain;
  const known = existing.has(d);
  const hot: HotState = req.hot === undefined ? NO_HOT : checkHot(d.spec, req.hot, conn.hotplugPorts);
  let map = incoming.get(conn);
  if (map === undefined) {
    map = new Map();
    incoming.set(conn, map);
  }
  if (map.has(d.name)) throw new VmkitError('InvalidState', `Domain '${d.name}' is already receiving a migration`, { details: { domain: d.name } });
  const listening = deferred<string>();
  const outcome = deferred<boolean>();
  const run: IncomingRun = {
    hot,
    reason: 'migrated',
    async receive(vm, signal) {
      const qmp = vm.qmp as QmpClient;
      if (req.postcopy === true) await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'postcopy-ram', state: true }] });
      await qmp.execute('migrate-incoming', { uri: 'tcp:127.0.0.1:0' }, { signal });
      const info = await qmp.execute<{ 'socket-address'?: { type: string; host?: string; port?: string }[] }>('query-migrate');
      const addr = info['socket-address']?.find((a) => a.type === 'inet');
      if (addr?.port === undefined) throw new VmkitError('QemuFailed', 'QEMU did not say which port it listens on for the migration');
      listening.resolve(`tcp:127.0.0.1:${addr.port}`);
      const received = watchMigration(qmp, 'incoming', (p) => d.announce('progress', { progress: p }), { signal, intervalMs: 50, untilPostcopy: req.postcopy === true });
      received.catch(() => undefined);
      // Post-copy: the guest must run here as soon as the source switches (it pulls the pages it lacks);
      // from then on the source cannot take it back.
      if (req.postcopy === true) {
        const p = await Promise.race([received, outcome.promise.then((ok) => (ok ? received : Promise.reject(new VmkitError('Aborted', `The migration of domain '${d.name}' was given up by its source`))))]);
        if (p.status === 'postcopy-active') return true;
      }
      if (!(await Promise.race([outcome.promise, received.then(() => outcome.promise)]))) {
        throw new VmkitError('Aborted', `The migration of domain '${d.name}' was given up by its source`);
      }
      await received;
      return true;
    },
  };
  const started = d.startIncoming(run, { timeoutMs: 600_000 });
  started.catch(() => undefined);
  map.set(d.name, { started, settle: (ok) => outcome.resolve(ok) });
  const done = (): void => {
    if (map?.get(d.name)?.started === started) map.delete(d.name);
  };
  started.then(done, () => {
    done();
    // A domain this migration defined goes again when the migration fails.
    if (!known) void conn.undefine(d.name).catch(() => undefined);
  });
  const uri = await Promise.race([listening.promise, started.then(() => Promise.reject(new VmkitError('Internal', 'the incoming start ended early')))]);
  return { name: d.name, uri };
}

/** Destination, step 3: the source's outcome; on success waits until the guest runs here. */
export async function finishIncoming(conn: Connection, name: string, ok: boolean, opts: { timeoutMs?: number } = {}): Promise<DomainInfo> {
  const inc = incoming.get(conn)?.get(name);
  const d = conn.lookup(name);
  if (inc === undefined) {
    // Post-copy: the guest has been running here since the switch.
    if (ok && (d.state() === 'running' || d.state() === 'paused')) return d.snapshot();
    throw new VmkitError('InvalidState', `Domain '${name}' is not receiving a migration`, { details: { domain: name } });
  }
  inc.settle(ok);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      inc.started,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new VmkitError('Timeout', `Domain '${name}' did not start running here within ${opts.timeoutMs ?? 120_000} ms after its migration`)), opts.timeoutMs ?? 120_000);
      }),
    ]);
  } catch (e) {
    if (ok) throw e;
  } finally {
    clearTimeout(timer);
  }
  return d.snapshot();
}

/** Opens the target of `to`: `unix:///path.sock` (a daemon) or a Connection of this process. */
export async function migrationTarget(to: string | Connection): Promise<MigrationTarget> {
  if (typeof to !== 'string') {
    return {
      uri: to.uri,
      prepare: (req) => prepareIncoming(to, req),
      finish: (name, ok) => finishIncoming(to, name, ok),
      close: async () => undefined,
    };
  }
  const m = /^unix:\/\/(\/.+)$/.exec(to);
  if (m === null) {
    throw new VmkitError('InvalidArgument', `Cannot migrate to ${JSON.stringify(to)}: give the other vmkit daemon's socket as unix:///path/vmkit.sock`, { details: { to } });
  }
  const { Transport } = await import('../api/transport.js');
  const t = new Transport(m[1] ?? '');
  return {
    uri: to,
    prepare: (req) => t.request<{ name: string; uri: string }>('POST', '/v1/migrations/incoming', req, { timeoutMs: 120_000 }),
    finish: (name, ok) => t.request<DomainInfo>('POST', `/v1/migrations/incoming/${encodeURIComponent(name)}/finish`, { ok }, { timeoutMs: 180_000 }),
    close: async () => {
      t.close();
    },
  };
}

/** Migrations under way from this process, by domain: cancel() uses them. */
const outgoing = new WeakMap<Domain, { qmp: QmpClient; cancelled: boolean }>();

/** Source: moves the running guest to `to`. Allowed in: running, paused. */
export function migrate(_conn: Connection | undefined, d: Domain, to: string | Connection, opts: MigrateOptions = {}): Promise<MigrateResult> {
  return d.vmJob('migrate', ['running', 'paused'], async (vm) => {
    const qmp = vm?.qmp;
    if (vm === undefined || qmp === undefined) throw new VmkitError('InvalidState', `Cannot migrate domain '${d.name}': it is not running`);
    const target = await migrationTarget(to);
    try {
      if (d.record.format === 'vmkit-spec') throw new VmkitError('InvalidArgument', `Cannot migrate domain '${d.name}': its definition is stored as a JSON spec by an older vmkit; define it again first`);
      const def = await d.definition();
      const hot = d.live?.hot ?? NO_HOT;
      const caps = [
        { capability: 'auto-converge', state: opts.autoConverge === true },
        { capability: 'postcopy-ram', state: opts.postcopy === true },
      ];
      await qmp.execute('migrate-set-capabilities', { capabilities: caps });
      if (opts.bandwidthMiBs !== undefined) {
        if (!Number.isInteger(opts.bandwidthMiBs) || opts.bandwidthMiBs < 1) throw new VmkitError('InvalidArgument', `bandwidth: a whole number of MiB/s >= 1 (got ${opts.bandwidthMiBs})`);
        await qmp.execute('migrate-set-parameters', { 'max-bandwidth': opts.bandwidthMiBs * 1048576 });
      }
      const prep = await target.prepare({ text: def.text, ...(def.file === undefined ? {} : { file: def.file }), ...(d.record.baseDir === undefined ? {} : { baseDir: d.record.baseDir }), hot, ...(opts.postcopy === true ? { postcopy: true } : {}) });
      const state = { qmp, cancelled: false };
      outgoing.set(d, state);
      let progress: JobProgress;
      try {
        await qmp.execute('migrate', { uri: prep.uri });
        let switched = false;
        progress = await watchMigration(
          qmp,
          'migrate',
          (p) => {
            opts.onProgress?.(p);
            d.announce('progress', { progress: p });
            if (opts.postcopy === true && !switched && p.status === 'active' && (p.transferredBytes ?? 0) > 0) {
              switched = true;
              void qmp.execute('migrate-start-postcopy').catch(() => undefined);
            }
          },
          { timeoutMs: opts.timeoutMs ?? 600_000, intervalMs: 50 },
        );
      } catch (e) {
        await qmp.execute('migrate_cancel').catch(() => undefined);
        await target.finish(prep.name, false).catch(() => undefined);
        if (state.cancelled) throw new VmkitError('Aborted', `The migration of domain '${d.name}' was cancelled; it keeps running here`, { cause: e });
        throw e;
      } finally {
        outgoing.delete(d);
      }
      const destination = await target.finish(prep.name, true);
      d.ending = { reason: 'migrated', message: `The guest now runs in ${target.uri} (downtime ${progress.downtimeMs ?? '?'} ms)` };
      await qmp.execute('quit').catch(() => undefined);
      await vm.exited;
      return { to: target.uri, progress, ...(destination === undefined ? {} : { destination }) };
    } finally {
      await target.close();
    }
  });
}

/** Cancels the migration of `d` under way (QMP migrate_cancel); the guest keeps running here. */
export async function cancelMigration(d: Domain): Promise<void> {
  const m = outgoing.get(d);
  if (m === undefined) throw new VmkitError('InvalidState', `Domain '${d.name}' is not migrating`, { details: { domain: d.name } });
  m.cancelled = true;
  await m.qmp.execute('migrate_cancel');
}
