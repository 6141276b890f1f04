/**
 * The daemon's routes for operations that change a running VM (src/vmops): hotplug, save, snapshots and
 * live migration. Like server.ts, it only parses a request into a library call. Bodies are checked here by
 * hand (each field named in the error), so the bundle's generated validators need not know them.
 *
 *   POST /v1/domains/NAME/attach-disk   {id, path, format, readonly?, serial?, cache?, persistent?}
 *   POST /v1/domains/NAME/detach-disk   {id, persistent?, timeoutMs?}
 *   POST /v1/domains/NAME/attach-nic    {id, kind, mac?, ifname?, persistent?}
 *   POST /v1/domains/NAME/detach-nic    {id, persistent?, timeoutMs?}
 *   POST /v1/domains/NAME/setvcpus      {count, persistent?, timeoutMs?}
 *   POST /v1/domains/NAME/setmem        {requestedMiB, persistent?, timeoutMs?}  (virtio-mem)
 *   POST /v1/domains/NAME/save          {discard?}
 *   GET  /v1/domains/NAME/snapshots     POST /v1/domains/NAME/snapshots {name, kind?, memory?, description?, disks?: [{id, snapshot, file?}]}
 *   POST /v1/domains/NAME/snapshots/SNAP/revert    DELETE /v1/domains/NAME/snapshots/SNAP
 *   POST /v1/domains/NAME/block-commit  {disk}
 *   POST /v1/domains/NAME/migrate       {to, autoConverge?, postcopy?, timeoutMs?}
 *   POST /v1/domains/NAME/migrate-cancel
 *   POST /v1/migrations/incoming        {text, file?, baseDir?, hot?}: define + start QEMU with -incoming
 *   POST /v1/migrations/incoming/NAME/finish  {ok}: wait for the stream, let the guest run (or give up)
 */
import type { Connection } from '../driver/connection.js';
import { VmkitError } from '../errors.js';
import { parseJsonBody } from './request-body.js';
import type { ClientCred } from '../vmops/client-paths.js';
import type { SnapshotDiskRequest } from '../vmops/snapshot-xml.js';

export interface VmopsRequest {
  readonly method: string;
  /** The path's parts after /v1. */
  readonly parts: readonly string[];
  /** The request body's text. */
  text(): Promise<string>;
  /** The client's uid (SO_PEERCRED). */
  readonly uid?: number;
  /** The client's credentials (SO_PEERCRED): host paths it names are checked against them (vmops/client-paths.ts). */
  readonly cred?: ClientCred;
}

/** The body as a JSON object (empty: {}). */
async function jsonBody(req: VmopsRequest): Promise<Record<string, unknown>> {
  const v = parseJsonBody(await req.text());
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new VmkitError('InvalidArgument', 'Request body must be a JSON object');
  return v as Record<string, unknown>;
}

function str(b: Record<string, unknown>, field: string, required = true): string | undefined {
  const v = b[field];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v === '') throw new VmkitError('InvalidArgument', `Request body field '${field}' must be a non-empty string (got ${JSON.stringify(v)})`, { details: { field } });
  return v;
}

function num(b: Record<string, unknown>, field: string, required = false): number | undefined {
  const v = b[field];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new VmkitError('InvalidArgument', `Request body field '${field}' must be a whole number (got ${JSON.stringify(v)})`, { details: { field } });
  return v;
}

function bool(b: Record<string, unknown>, field: string): boolean | undefined {
  const v = b[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new VmkitError('InvalidArgument', `Request body field '${field}' must be true or false (got ${JSON.stringify(v)})`, { details: { field } });
  return v;
}

function only(b: Record<string, unknown>, fields: readonly string[]): void {
  const extra = Object.keys(b).filter((k) => !fields.includes(k));
  if (extra.length > 0) throw new VmkitError('InvalidArgument', `Unknown request body field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')}: this route takes ${fields.join(', ')}`, { details: { fields: extra } });
}

function opts(b: Record<string, unknown>): { persistent?: boolean; timeoutMs?: number } {
  const persistent = bool(b, 'persistent');
  const timeoutMs = num(b, 'timeoutMs');
  return { ...(persistent === undefined ? {} : { persistent }), ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}

/** A client that is not root, on a daemon that does not allow raw options: the host paths it names are checked. */
function limited(conn: Connection, req: VmopsRequest): boolean {
  const uid = req.cred?.uid ?? req.uid;
  return uid !== undefined && uid !== 0 && !conn.rawAllowed;
}

function clientOf(req: VmopsRequest): ClientCred {
  return req.cred ?? { uid: req.uid ?? -1 };
}

/** `disks`: [{id, snapshot: internal|external|no, file?}] (an external snapshot's per-disk choices). */
function snapshotDisks(b: Record<string, unknown>): SnapshotDiskRequest[] | undefined {
  const v = b.disks;
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new VmkitError('InvalidArgument', `Request body field 'disks' must be a list of {id, snapshot, file?} (got ${JSON.stringify(v)})`, { details: { field: 'disks' } });
  return v.map((x: unknown, i) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new VmkitError('InvalidArgument', `Request body field 'disks[${i}]' must be an object {id, snapshot, file?}`, { details: { field: `disks[${i}]` } });
    const o = x as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => !['id', 'snapshot', 'file'].includes(k));
    if (extra.length > 0) throw new VmkitError('InvalidArgument', `Unknown field '${extra[0]}' in request body field 'disks[${i}]': it takes id, snapshot, file`, { details: { field: `disks[${i}].${extra[0]}` } });
    const id = str(o, 'id') ?? '';
    const snapshot = str(o, 'snapshot') ?? '';
    if (snapshot !== 'internal' && snapshot !== 'external' && snapshot !== 'no') throw new VmkitError('InvalidArgument', `Request body field 'disks[${i}].snapshot' must be internal, external or no (got ${JSON.stringify(snapshot)})`, { details: { field: `disks[${i}].snapshot` } });
    const file = str(o, 'file', false);
    return { id, snapshot, ...(file === undefined ? {} : { file }) };
  });
}

/** Handles a vmops route; the reply's status and body. */
export async function routeVmops(conn: Connection, req: VmopsRequest): Promise<{ status: number; body: unknown }> {
  const { method } = req;
  const parts = req.parts.map(String);
  if (parts[0] === 'migrations') {
    const m = await import('../vmops/migration.js');
    if (parts[1] === 'incoming' && parts.length === 2 && method === 'POST') {
      const b = await jsonBody(req);
      only(b, ['text', 'file', 'baseDir', 'hot', 'postcopy']);
      const postcopy = bool(b, 'postcopy');
      const r = await m.prepareIncoming(
        conn,
        { text: str(b, 'text') ?? '', ...(b.file === undefined ? {} : { file: str(b, 'file') ?? '' }), ...(b.baseDir === undefined ? {} : { baseDir: str(b, 'baseDir') ?? '' }), hot: b.hot, ...(postcopy === undefined ? {} : { postcopy }) },
        req.uid === undefined ? {} : { caller: { uid: req.uid } },
      );
      return { status: 200, body: r };
    }
    if (parts[1] === 'incoming' && parts[3] === 'finish' && parts.length === 4 && method === 'POST') {
      const b = await jsonBody(req);
      only(b, ['ok', 'timeoutMs']);
      const timeoutMs = num(b, 'timeoutMs');
      const d = await m.finishIncoming(conn, parts[2] ?? '', bool(b, 'ok') !== false, timeoutMs === undefined ? {} : { timeoutMs });
      return { status: 200, body: d };
    }
    throw new VmkitError('NotFound', `No route ${method} /v1/${parts.join('/')}`);
  }
  const d = conn.lookup(parts[1] ?? '');
  const action = parts[2];
  if (action === 'snapshots') {
    const s = await import('../vmops/snapshots.js');
    if (parts.length === 3 && method === 'GET') return { status: 200, body: { snapshots: await s.listSnapshots(d) } };
    if (parts.length === 3 && method === 'POST') {
      const b = await jsonBody(req);
      only(b, ['name', 'kind', 'memory', 'description', 'disks']);
      const kind = str(b, 'kind', false);
      if (kind !== undefined && kind !== 'internal' && kind !== 'external') throw new VmkitError('InvalidArgument', `Request body field 'kind' must be internal or external (got ${JSON.stringify(kind)})`);
      const memory = bool(b, 'memory');
      const description = str(b, 'description', false);
      const disks = snapshotDisks(b);
      if (limited(conn, req)) {
        const { checkClientFile } = await import('../vmops/client-paths.js');
        for (const [i, x] of (disks ?? []).entries()) if (x.file !== undefined) await checkClientFile(conn.root, d.name, `disks[${i}].file`, x.file, clientOf(req), { create: true });
      }
      const snap = await s.createSnapshot(d, str(b, 'name') ?? '', { ...(kind === undefined ? {} : { kind }), ...(memory === undefined ? {} : { memory }), ...(description === undefined ? {} : { description }), ...(disks === undefined ? {} : { disks }) });
      return { status: 201, body: snap };
    }
    const snapName = parts[3] ?? '';
    if (parts.length === 4 && method === 'DELETE') {
      await s.deleteSnapshot(d, snapName);
      return { status: 200, body: { deleted: snapName } };
    }
    if (parts.length === 5 && parts[4] === 'revert' && method === 'POST') {
      await jsonBody(req);
      return { status: 200, body: await s.revertSnapshot(d, snapName) };
    }
    throw new VmkitError('NotFound', `No route ${method} /v1/${parts.join('/')}`);
  }
  if (parts.length !== 3 || method !== 'POST') throw new VmkitError('NotFound', `No route ${method} /v1/${parts.join('/')}`);
  const b = await jsonBody(req);
  switch (action) {
    case 'attach-disk': {
      only(b, ['id', 'path', 'format', 'readonly', 'serial', 'cache', 'persistent']);
      const h = await import('../vmops/hotplug.js');
      const ro = bool(b, 'readonly');
      const serial = str(b, 'serial', false);
      const cache = str(b, 'cache', false);
      if (limited(conn, req)) await (await import('../vmops/client-paths.js')).checkClientFile(conn.root, d.name, 'path', str(b, 'path') ?? '', clientOf(req));
      const r = await h.attachDisk(
        d,
        { id: str(b, 'id') ?? '', path: str(b, 'path') ?? '', format: (str(b, 'format') ?? '') as 'raw', ...(ro === undefined ? {} : { readonly: ro }), ...(serial === undefined ? {} : { serial }), ...(cache === undefined ? {} : { cache: cache as 'none' }) },
        opts(b),
      );
      return { status: 200, body: { result: r, domain: d.snapshot() } };
    }
    case 'attach-nic': {
      only(b, ['id', 'kind', 'mac', 'ifname', 'persistent']);
      const h = await import('../vmops/hotplug.js');
      const mac = str(b, 'mac', false);
      const ifname = str(b, 'ifname', false);
      const r = await h.attachNic(d, { id: str(b, 'id') ?? '', kind: (str(b, 'kind', false) ?? 'user') as 'user', ...(mac === undefined ? {} : { mac }), ...(ifname === undefined ? {} : { ifname }) }, opts(b));
      return { status: 200, body: { result: r, domain: d.snapshot() } };
    }
    case 'detach-disk':
    case 'detach-nic': {
      only(b, ['id', 'persistent', 'timeoutMs']);
      const h = await import('../vmops/hotplug.js');
      const r = await (action === 'detach-disk' ? h.detachDisk : h.detachNic)(d, str(b, 'id') ?? '', opts(b));
      return { status: 200, body: { result: r, domain: d.snapshot() } };
    }
    case 'setvcpus': {
      only(b, ['count', 'persistent', 'timeoutMs']);
      const h = await import('../vmops/hotplug.js');
      const r = await h.setVcpus(d, num(b, 'count', true) ?? 0, opts(b));
      return { status: 200, body: { result: r, domain: d.snapshot() } };
    }
    case 'setmem': {
      only(b, ['requestedMiB', 'persistent', 'timeoutMs']);
      const m = await import('../vmops/memory.js');
      const r = await m.setMemory(d, num(b, 'requestedMiB', true) ?? 0, opts(b));
      return { status: 200, body: { result: r, domain: d.snapshot() } };
    }
    case 'save': {
      only(b, ['discard', 'timeoutMs']);
      const s = await import('../vmops/savestate.js');
      if (bool(b, 'discard') === true) {
        await s.discardSaved(d);
        return { status: 200, body: { domain: d.snapshot() } };
      }
      const timeoutMs = num(b, 'timeoutMs');
      const r = await s.save(d, timeoutMs === undefined ? {} : { timeoutMs });
      return { status: 200, body: { result: r, domain: d.snapshot() } };
    }
    case 'block-commit': {
      only(b, ['disk']);
      const s = await import('../vmops/snapshots.js');
      return { status: 200, body: await s.blockCommit(d, str(b, 'disk') ?? '') };
    }
    case 'migrate': {
      only(b, ['to', 'autoConverge', 'postcopy', 'timeoutMs', 'bandwidthMiBs']);
      const bw = num(b, 'bandwidthMiBs');
      const m = await import('../vmops/migration.js');
      const ac = bool(b, 'autoConverge');
      const pc = bool(b, 'postcopy');
      const timeoutMs = num(b, 'timeoutMs');
      const to = str(b, 'to') ?? '';
      const sock = /^unix:\/\/(.*)$/.exec(to);
      if (limited(conn, req) && sock !== null) await (await import('../vmops/client-paths.js')).checkClientSocket('to', sock[1] ?? '', clientOf(req));
      const r = await m.migrate(conn, d, to, { ...(ac === undefined ? {} : { autoConverge: ac }), ...(pc === undefined ? {} : { postcopy: pc }), ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(bw === undefined ? {} : { bandwidthMiBs: bw }) });
      return { status: 200, body: { result: r, domain: d.snapshot() } };
    }
    case 'migrate-cancel': {
      only(b, []);
      const m = await import('../vmops/migration.js');
      await m.cancelMigration(d);
      return { status: 200, body: { domain: d.snapshot() } };
    }
    default:
      throw new VmkitError('NotFound', `No route ${method} /v1/${parts.join('/')}`);
  }
}
