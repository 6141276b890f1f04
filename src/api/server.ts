/**
 * The daemon's HTTP/JSON front end on a unix socket: it only parses a request into a Connection call and
 * writes the result (or the error, with the library's code) back. Peer credentials are checked on every
 * connection (SO_PEERCRED) before any request on it is served. Lifecycle events go out as NDJSON streams;
 * the serial console is a raw byte stream after an HTTP Upgrade.
 */
import { consoleUnavailable } from '../process/serial-files.js';
import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import http from 'node:http';
import type { Socket } from 'node:net';
import { dirname } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import type { Connection } from '../driver/connection.js';
import type { Domain } from '../driver/domain.js';
import type { LifecycleEvent } from '../driver/api-types.js';
import { VmkitError } from '../errors.js';
import { parseJsonBody, readBody } from './request-body.js';
import { errorBody } from './http-errors.js';
import { LoopLag } from './loop-lag.js';
import { openApiDocument } from './openapi.js';
import { serveObserve, timeRequest } from './routes-observe.js';
import { allowed, peerCred, restrictedCaller, type AccessPolicy } from './peer-cred.js';
import { DefineBody, DefineManyBody, DestroyBody, EmptyBody, ShutdownBody, StartBody, UpdateBody, validateBody, type DefineBodyT, type DefineManyBodyT } from './schemas.js';
import { socketAnswers } from './uri.js';
import { isStorageRoute, serveStorage } from './routes-storage.js';
import { isVmopsPath } from './routes-vmops-paths.js';

export interface ApiServerOptions {
  readonly socket: string;
  readonly access: AccessPolicy;
  readonly version: string;
  /** Socket file mode (default 0o660). */
  readonly mode?: number;
  /** Group to give the socket file (system mode: the vmkit group). */
  readonly gid?: number;
  /** Most client connections open at once (default MAX_CONNECTIONS); more are answered 503 and closed. */
  readonly maxConnections?: number;
  readonly log?: (line: string) => void;
}

/** Most client connections open at once, event streams and consoles included. */
export const MAX_CONNECTIONS = 1024;

/** Largest request body read (a definition is at most 4 MiB of text, JSON-escaped). */

/**
 * Cooperative fairness for bursts: hundreds of requests that arrive (or finish) together would otherwise be
 * handled in one event-loop turn, and timers, event streams and other clients would wait for all of them.
 * Work past TURN_BUDGET_MS in one turn waits for the next turn.
 */
export const TURN_BUDGET_MS = 4;

export class TurnBudget {
  private started = 0;
  private armed = false;

  /**
   * True when this turn has used its budget (the first call of a turn starts its clock). Check it right
   * before the work, without awaiting in between: `if (budget.over()) await budget.later();`.
   */
  over(): boolean {
    const now = performance.now();
    if (!this.armed) {
      this.armed = true;
      this.started = now;
      setImmediate(() => {
        this.armed = false;
      });
      return false;
    }
    return now - this.started >= TURN_BUDGET_MS;
  }

  /** Resolves in a later turn that has budget left. */
  async later(): Promise<void> {
    do await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.over());
  }
}

/**
 * The path of a request target and its query. Only origin-form targets (`/v1/...`) are served: the host of
 * an absolute or `//` target is never taken from the request.
 */
export function requestUrl(target: string | undefined): URL {
  if (target === undefined || !target.startsWith('/')) {
    throw new VmkitError('InvalidArgument', `Invalid request target ${JSON.stringify(target ?? '')}: use a path such as /v1/domains`);
  }
  try {
    return new URL(`http://vmkit${target}`);
  } catch {
    throw new VmkitError('InvalidArgument', `Invalid request target ${JSON.stringify(target)}: use a path such as /v1/domains`);
  }
}

/** One %-encoded path segment, decoded; a malformed escape is a bad request (400), not a server error. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new VmkitError('InvalidArgument', `Malformed %-escape in the URL path segment ${JSON.stringify(segment)}: encode names with encodeURIComponent`, {
      details: { segment },
    });
  }
}

/** An event-stream client that falls this far behind is dropped rather than buffered without bound. */
const MAX_STREAM_BACKLOG = 4 * 1024 * 1024;
const MAX_CONSOLE_BACKLOG = 1024 * 1024;

interface Reply {
  readonly status: number;
  readonly body?: unknown;
}

interface EventClient {
  readonly res: http.ServerResponse;
  readonly domain: string | undefined;
}

export class ApiServer {
  private readonly server: http.Server;
  private readonly verdicts = new WeakMap<Socket, Promise<boolean>>();
  /** Connections answered with a refusal (403, 503) and being closed: nothing more is served on them. */
  private readonly refused = new WeakSet<Socket>();
  /** When the last "too many connections" line was logged (one a second at most). */
  private fullLoggedAt = 0;
  private readonly sockets = new Set<Socket>();
  private readonly streams = new Set<EventClient>();
  private readonly consoles = new Set<Socket>();
  private readonly eld = new LoopLag();
  private eldSince = new Date();
  private readonly started = Date.now();
  private readonly onEvent = (ev: LifecycleEvent): void => this.fanOut(ev);
  /** Event streams written to in this turn (corked until the turn ends). */
  private readonly corked = new Set<http.ServerResponse>();

  private constructor(private readonly conn: Connection, private readonly opts: ApiServerOptions) {
    this.server = http.createServer({ keepAlive: true }, (req, res) => void this.handle(req, res));
    this.server.on('connection', (socket: Socket) => this.admit(socket));
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => void this.upgrade(req, socket, head));
    this.server.on('clientError', (e: NodeJS.ErrnoException, socket: Socket) => {
      this.opts.log?.(`dropped a client connection: ${e.code ?? ''} ${e.message}`);
      socket.destroy();
    });
    this.server.keepAliveTimeout = 30_000;
    this.eld.start();
    conn.on('event', this.onEvent);
  }

  /**
   * Listens on `opts.socket`: a stale socket there is replaced; a socket a daemon answers on, and anything
   * that is not a socket (file, directory, symbolic link), are refused and left alone.
   */
  static async listen(conn: Connection, opts: ApiServerOptions): Promise<ApiServer> {
    const api = new ApiServer(conn, opts);
    await mkdir(dirname(opts.socket), { recursive: true, mode: 0o755 });
    await replaceableSocket(opts.socket);
    // The socket is created with the umask's mode: keep everyone but the owner out until chmod.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        api.server.once('error', reject);
        api.server.listen({ path: opts.socket, exclusive: true }, () => {
          api.server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      throw new VmkitError('HostError', `Cannot listen on ${opts.socket}: ${(e as Error).message}`, { cause: e, details: { socket: opts.socket } });
    } finally {
      process.umask(umask);
    }
    if (opts.gid !== undefined) await chown(opts.socket, process.getuid?.() ?? 0, opts.gid);
    await chmod(opts.socket, opts.mode ?? 0o660);
    return api;
  }

  /** Stops listening, ends every client, removes the socket file. */
  async close(): Promise<void> {
    this.conn.off('event', this.onEvent);
    this.eld.stop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.streams) c.res.end();
    for (const s of this.consoles) s.destroy();
    for (const s of this.sockets) s.destroy();
    await closed;
    await unlink(this.opts.socket).catch(() => undefined);
  }

  // ---- connections and credentials ---------------------------------------------------------------------

  /**
   * A new connection: over the connection limit it is answered 503 and closed; otherwise its peer is
   * checked (SO_PEERCRED), and a peer that may not use the daemon is answered 403 and closed at once.
   */
  private admit(socket: Socket): void {
    const max = this.opts.maxConnections ?? MAX_CONNECTIONS;
    if (this.sockets.size >= max) {
      if (Date.now() - this.fullLoggedAt >= 1000) {
        this.fullLoggedAt = Date.now();
        this.opts.log?.(`refused a client: ${this.sockets.size} connections are open, the most this daemon serves`);
      }
      this.turnAway(socket, 503, new VmkitError('HostError', `The vmkit daemon has ${max} connections open, the most it serves: close some and retry`, { details: { reason: 'connections', max } }));
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const cred = peerCred(socket);
    const verdict = allowed(cred, this.opts.access).catch(() => false);
    this.verdicts.set(socket, verdict);
    void verdict.then((ok) => {
      if (ok) return;
      this.opts.log?.(`refused a client: uid ${cred?.uid ?? '?'} pid ${cred?.pid ?? '?'} (allowed: ${this.opts.access.describe})`);
      this.turnAway(socket, 403, this.refusal());
    });
  }

  /** Answers `status` with the error as JSON on a raw connection and closes it (at once if the peer does not read). */
  private turnAway(socket: Socket, status: number, e: VmkitError): void {
    this.refused.add(socket);
    if (socket.destroyed) return;
    const text = JSON.stringify(errorBody(e).body);
    if (!socket.writableEnded) {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
    }
    // Half-closed, not destroyed: a client that writes its request before it reads gets the answer instead of
    // EPIPE; what it sends is discarded; the socket closes when the client closes its side, or after 1 s.
    socket.resume();
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private async permitted(socket: Socket): Promise<boolean> {
    return (await this.verdicts.get(socket)) === true;
  }

  private refusal(): VmkitError {
    return new VmkitError('HostError', `Permission denied: this vmkit daemon serves ${this.opts.access.describe}`, { details: { reason: 'permission' } });
  }

  // ---- requests ----------------------------------------------------------------------------------------

  /** Spreads bursts of requests over event-loop turns (see TurnBudget). */
  private readonly turn = new TurnBudget();

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      // A refused connection has had its answer (see admit); nothing is served on it.
      if (!(await this.permitted(req.socket)) || this.refused.has(req.socket)) return;
      const url = requestUrl(req.url);
      timeRequest(req, res, url);
      if (await serveObserve(this.conn, req, res, url)) return;
      if (req.method === 'GET' && url.pathname === '/v1/events') {
        this.openStream(req, res, url.searchParams.get('domain') ?? undefined);
        return;
      }
      if (isStorageRoute(url.pathname)) return await serveStorage(this.conn, req, res, url, this.opts.log); // images, volumes
      if (this.turn.over()) await this.turn.later();
      reply = await this.route(req, url);
    } catch (e) {
      const { status, body } = errorBody(e);
      reply = { status, body };
      if (status === 500) this.opts.log?.(`internal error on ${req.method} ${req.url}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
    if (res.destroyed) return;
    if (this.turn.over()) await this.turn.later();
    if (reply.body === undefined) {
      res.writeHead(reply.status).end();
      return;
    }
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private async route(req: http.IncomingMessage, url: URL): Promise<Reply> {
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeSegment);
    const c = this.conn;
    if (parts[0] === 'openapi.json' && parts.length === 1 && method === 'GET') return { status: 200, body: openApiDocument(this.opts.version) };
    if (parts[0] !== 'v1') throw notFound(method, url.pathname);
    if (isVmopsPath(parts.slice(1))) {
      const cred = peerCred(req.socket);
      return (await import('./routes-vmops.js')).routeVmops(c, { method, parts: parts.slice(1), text: () => readBody(req), ...(cred === undefined ? {} : { uid: cred.uid, cred }) });
    }
    if (parts[1] === 'daemon' && parts.length === 2 && method === 'GET') return { status: 200, body: this.status() };
    if (parts[1] === 'daemon' && parts[2] === 'reset-stats' && parts.length === 3 && method === 'POST') {
      await this.body(req, EmptyBody);
      this.eld.reset();
      this.eldSince = new Date();
      return { status: 200, body: this.status() };
    }
    if (parts[1] === 'batch' && parts[2] === 'define' && parts.length === 3) {
      if (method !== 'POST') throw notAllowed(method, url.pathname);
      return { status: 200, body: await this.defineMany(await this.body(req, DefineManyBody), callerOf(req)) };
    }
    if (parts[1] !== 'domains') throw notFound(method, url.pathname);
    if (parts.length === 2) {
      if (method === 'GET') return { status: 200, body: c.snapshot() };
      if (method === 'POST') {
        const d = await this.define(await this.body(req, DefineBody), callerOf(req));
        return { status: 201, body: d.snapshot() };
      }
      throw notAllowed(method, url.pathname);
    }
    const id = parts[2] ?? '';
    const action = parts[3];
    if (parts.length === 3) {
      if (method === 'GET') return { status: 200, body: c.lookup(id).snapshot() };
      if (method === 'DELETE') {
        const d = c.lookup(id);
        await c.undefine(d.name);
        return { status: 200, body: { name: d.name, uuid: d.uuid, seq: d.seq } };
      }
      if (method === 'PATCH') {
        const b = await this.body(req, UpdateBody);
        return { status: 200, body: await c.lookup(id).update(b) };
      }
      throw notAllowed(method, url.pathname);
    }
    if (parts.length !== 4 || action === undefined) throw notFound(method, url.pathname);
    if (action === 'definition' && method === 'GET') return { status: 200, body: await c.lookup(id).definition() };
    if (method !== 'POST') throw notAllowed(method, url.pathname);
    const d = c.lookup(id);
    switch (action) {
      case 'start': {
        const b = await this.body(req, StartBody);
        await d.start({ ...(b.paused === undefined ? {} : { paused: b.paused }), ...(b.timeoutMs === undefined ? {} : { timeoutMs: b.timeoutMs }) });
        return { status: 200, body: d.snapshot() };
      }
      case 'shutdown': {
        const b = await this.body(req, ShutdownBody);
        const stop = await d.shutdown(b.timeoutMs === undefined ? {} : { timeoutMs: b.timeoutMs });
        return { status: 200, body: { stop, domain: d.snapshot() } };
      }
      case 'destroy': {
        const b = await this.body(req, DestroyBody);
        const stop = await d.destroy(b.graceMs === undefined ? {} : { graceMs: b.graceMs });
        return { status: 200, body: { stop, domain: d.snapshot() } };
      }
      case 'reboot':
      case 'suspend':
      case 'resume':
        await this.body(req, EmptyBody);
        await d[action]();
        return { status: 200, body: d.snapshot() };
      default:
        throw notFound(method, url.pathname);
    }
  }

  /** `caller`: a client not of the daemon's own account (SO_PEERCRED), which may not define privileged options. */
  private define(b: DefineBodyT, caller: { uid: number } | undefined): Promise<Domain> {
    return this.conn.define(
      { text: b.text, ...(b.file === undefined ? {} : { file: b.file }), ...(b.baseDir === undefined ? {} : { baseDir: b.baseDir }) },
      { ...(b.autostart === undefined ? {} : { autostart: b.autostart }), ...(b.policies === undefined ? {} : { policies: b.policies }), ...(caller === undefined ? {} : { caller }) },
    );
  }

  /**
   * A batch of defines: each is started in a turn with budget left (a definition is parsed at once, in
   * this thread), all run concurrently, and each gets its own result.
   */
  private async defineMany(b: DefineManyBodyT, caller: { uid: number } | undefined): Promise<{ results: object[] }> {
    const results: object[] = new Array(b.definitions.length);
    const pending: Promise<void>[] = [];
    for (const [i, item] of b.definitions.entries()) {
      if (this.turn.over()) await this.turn.later();
      pending.push(
        this.define(item, caller).then(
          (d) => {
            results[i] = { domain: d.snapshot() };
          },
          (e: unknown) => {
            const { status, body } = errorBody(e);
            if (status === 500) this.opts.log?.(`internal error on a batch define: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
            results[i] = body;
          },
        ),
      );
    }
    await Promise.all(pending);
    return { results };
  }

  /** Reads and validates a JSON body (an empty body is `{}`). */
  private async body<T extends TSchema>(req: http.IncomingMessage, schema: T): Promise<import('@sinclair/typebox').Static<T>> {
    return validateBody(schema, parseJsonBody(await readBody(req)));
  }

  private status(): object {
    const running = this.conn.list().filter((d) => d.pid !== undefined).length;

    return {
      pid: process.pid,
      version: this.opts.version,
      root: this.conn.root,
      socket: this.opts.socket,
      uptimeMs: Date.now() - this.started,
      rssBytes: process.memoryUsage.rss(),
      heapUsedBytes: process.memoryUsage().heapUsed,
      domains: { defined: this.conn.list().length, running },
      clients: { connections: this.sockets.size, eventStreams: this.streams.size, consoles: this.consoles.size },
      eventLoopDelayMs: { ...this.eld.figures(), since: this.eldSince.toISOString() },
    };
  }

  // ---- event streams -----------------------------------------------------------------------------------

  private openStream(req: http.IncomingMessage, res: http.ServerResponse, domain: string | undefined): void {
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' });
    const snap = this.conn.snapshot();
    const domains = domain === undefined ? snap.domains : snap.domains.filter((d) => d.name === domain);
    res.write(`${JSON.stringify({ type: 'snapshot', seq: snap.seq, domains })}\n`);
    const client: EventClient = { res, domain };
    this.streams.add(client);
    const drop = (): void => {
      this.streams.delete(client);
    };
    req.once('close', drop);
    res.once('close', drop);
  }

  private fanOut(ev: LifecycleEvent): void {
    if (this.streams.size === 0) return;
    const line = `${JSON.stringify(ev)}\n`;
    for (const c of this.streams) {
      if (c.domain !== undefined && c.domain !== ev.domain) continue;
      if (c.res.writableLength > MAX_STREAM_BACKLOG) {
        this.opts.log?.('dropped an event-stream client that stopped reading');
        this.streams.delete(c);
        c.res.destroy();
        continue;
      }
      // Events of one turn go out together: one write per stream per turn, not one per event.
      if (!this.corked.has(c.res)) {
        c.res.cork();
        this.corked.add(c.res);
        if (this.corked.size === 1) setImmediate(() => this.uncorkStreams());
      }
      c.res.write(line);
    }
  }

  private uncorkStreams(): void {
    for (const res of this.corked) if (!res.destroyed) res.uncork();
    this.corked.clear();
  }

  // ---- console -----------------------------------------------------------------------------------------

  private async upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const fail = (e: unknown): void => {
      const { status, body } = errorBody(e);
      const text = JSON.stringify(body);
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
    };
    try {
      if (!(await this.permitted(socket)) || this.refused.has(socket)) return;
      const url = requestUrl(req.url);
      const m = /^\/v1\/domains\/([^/]+)\/console$/.exec(url.pathname);
      if (m?.[1] === undefined || req.method !== 'GET' || req.headers.upgrade?.toLowerCase() !== 'vmkit-console') {
        return fail(new VmkitError('NotFound', `No upgrade endpoint ${req.method} ${url.pathname}: use GET /v1/domains/{id}/console with Upgrade: vmkit-console`));
      }
      const d = this.conn.lookup(decodeSegment(m[1]));
      if (d.pid === undefined) {
        return fail(new VmkitError('InvalidState', `Cannot attach to the console of domain '${d.name}': it is ${d.state()}, and the console needs a running QEMU`, { details: { domain: d.name, state: d.state() } }));
      }
      const why = consoleUnavailable(d.spec);
      if (why !== undefined) return fail(new VmkitError('InvalidState', `Cannot attach to the console of domain '${d.name}': ${why}`, { details: { domain: d.name } }));
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: vmkit-console\r\nConnection: Upgrade\r\n\r\n');
      this.attachConsole(d, socket, head, url.searchParams.get('replay') === '1');
    } catch (e) {
      fail(e);
    }
  }

  private attachConsole(d: Domain, socket: Socket, head: Buffer, replay = false): void {
    this.consoles.add(socket);
    if (replay) socket.write(d.consoleHistory()); // what came before, then (same turn) what comes next
    const out = (chunk: Buffer): void => {
      if (socket.writableLength < MAX_CONSOLE_BACKLOG) socket.write(chunk); // a console is lossy, never a memory leak
    };
    const stopped = (): void => {
      socket.end();
    };
    d.on('console', out);
    d.once('stopped', stopped);
    const input = (data: Buffer): void => {
      try {
        d.writeConsole(data);
      } catch {
        socket.end();
      }
    };
    if (head.length > 0) input(head);
    socket.on('data', input);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.consoles.delete(socket);
      d.off('console', out);
      d.off('stopped', stopped);
    });
  }
}

function callerOf(req: http.IncomingMessage): { uid: number } | undefined {
  return restrictedCaller(req.socket as import('node:net').Socket);
}

function notFound(method: string, path: string): VmkitError {
  return new VmkitError('NotFound', `No endpoint ${method} ${path}: see GET /openapi.json`, { details: { method, path } });
}

function notAllowed(method: string, path: string): VmkitError {
  return new VmkitError('InvalidArgument', `Method ${method} is not allowed on ${path}: see GET /openapi.json`, { details: { method, path } });
}

function kindOf(st: import('node:fs').Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFile()) return 'a regular file';
  if (st.isFIFO()) return 'a FIFO';
  return 'a device or other special file';
}

/**
 * Makes way for a new socket at `path`: nothing there is fine; a socket no daemon answers on is removed;
 * a socket a daemon answers on, and anything that is not a socket, are refused and left as they are.
 */
async function replaceableSocket(path: string): Promise<void> {
  let st: import('node:fs').Stats;
  try {
    st = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new VmkitError('HostError', `Cannot check ${path} before listening there: ${(e as Error).message}`, { cause: e, details: { socket: path } });
  }
  if (!st.isSocket()) {
    throw new VmkitError('InvalidArgument', `${path} exists and is ${kindOf(st)}, not a socket: vmkit only replaces a stale socket; remove it yourself or choose another --socket`, {
      details: { socket: path },
    });
  }
  if (await socketAnswers(path)) {
    throw new VmkitError('AlreadyExists', `A vmkit daemon already listens on ${path}: stop it first, or use another --socket`, { details: { socket: path } });
  }
  await unlink(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw new VmkitError('HostError', `Cannot remove the stale socket ${path}: ${e.message}`, { cause: e, details: { socket: path } });
  });
}
