/**
 * The web dashboard (`vmkit daemon --web 127.0.0.1:8080`): the domain list with live state, lifecycle
 * buttons, charts of each domain's rates, its serial console (xterm.js; several viewers, one writer) and,
 * for `graphics: vnc` domains, its display (noVNC). It runs inside the daemon on the same Connection.
 *
 * Every request needs the token (see auth.ts) except `/login?token=...`, which trades it for a cookie.
 * Routes:
 *   GET  /, /app.js, /app.css, ...             the page (dist/web/)
 *   GET  /api/domains                          every domain's snapshot
 *   POST /api/domains/{name}/{start|shutdown|destroy|reboot}
 *   GET  /api/domains/{name}/stats, /api/stats statistics samples
 *   GET  /metrics                              the Prometheus metrics
 *   WS   /ws/events                            domain updates (JSON)
 *   WS   /ws/console/{name}[?keyboard=1]       the serial console (console-hub.ts)
 *   WS   /ws/vnc/{name}                        the VNC display (vnc-proxy.ts)
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { errorBody } from '../api/http-errors.js';
import { allStats, enableMetrics } from '../api/routes-observe.js';
import type { Connection } from '../driver/connection.js';
import type { Domain } from '../driver/domain.js';
import { VmkitError } from '../errors.js';
import { assetDir, loadAssets, type Asset } from './assets.js';
import { newToken, WebAuth } from './auth.js';
import { ConsoleHub } from './console-hub.js';
import { DomainFeed } from './domain-feed.js';
import { authority, type ListenAddress } from './listen-address.js';
import { proxyVnc } from './vnc-proxy.js';

export interface WebOptions {
  readonly address: ListenAddress;
  /** The token (default: a new random one). */
  readonly token?: string;
  /** Where dist/web is (default: found next to this module). */
  readonly assets?: string;
  readonly log?: (line: string) => void;
}

export interface WebServer {
  /** http://host:port/ as listening (the port chosen when 0 was asked for). */
  readonly url: string;
  /** The one URL that logs a browser in: print it once, never log it again. */
  readonly loginUrl: string;
  readonly token: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

const ACTIONS = new Set(['start', 'shutdown', 'destroy', 'reboot']);

export async function startWeb(conn: Connection, opts: WebOptions): Promise<WebServer> {
  const assets = await loadAssets(opts.assets ?? assetDir());
  const token = opts.token ?? newToken();
  const feed = new DomainFeed(conn);
  const hubs = new Map<Domain, ConsoleHub>();
  const sockets = new Set<Socket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024, perMessageDeflate: false, handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false) });
  let auth: WebAuth | undefined;
  const server = http.createServer((req, res) => void handle(req, res));
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => upgrade(req, socket, head));
  server.on('clientError', (_e, socket: Socket) => socket.destroy());

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const a = auth as WebAuth;
    const url = new URL(req.url ?? '/', 'http://vmkit');
    const problem = a.originProblem(req);
    if (problem !== undefined) return text(res, 403, `Refused: ${problem}\n`);
    if (url.pathname === '/login' && req.method === 'GET') {
      const t = url.searchParams.get('token') ?? '';
      if (!a.matches(t)) return text(res, 401, 'This login link is not valid (the token changes at every daemon start)\n');
      res.writeHead(303, { ...SECURITY_HEADERS, Location: '/', 'Set-Cookie': a.loginCookie(t) });
      res.end();
      return;
    }
    if (!a.authorized(req)) return text(res, 401, 'Not logged in: open the login URL that `vmkit daemon --web` printed when it started\n');
    try {
      if (url.pathname.startsWith('/api/')) return json(res, 200, await api(req, url));
      if (url.pathname === '/metrics' && req.method === 'GET') {
        const m = await enableMetrics(conn);
        const body = await m.render();
        res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': m.contentType, 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      const asset: Asset | undefined = req.method === 'GET' || req.method === 'HEAD' ? assets.get(url.pathname) : undefined;
      if (asset === undefined) return text(res, 404, `No page ${url.pathname}\n`);
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': asset.type, 'Content-Length': asset.body.length });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
    } catch (e) {
      const { status, body } = errorBody(e);
      json(res, status, body);
    }
  }

  async function api(req: http.IncomingMessage, url: URL): Promise<unknown> {
    const parts = url.pathname.split('/').slice(2).map((p) => decodeURIComponent(p));
    const method = req.method ?? 'GET';
    if (parts[0] === 'stats' && parts.length === 1 && method === 'GET') return { domains: await allStats(conn) };
    if (parts[0] !== 'domains') throw new VmkitError('NotFound', `No endpoint ${method} ${url.pathname}`);
    if (parts.length === 1 && method === 'GET') return feed.snapshot();
    const d = conn.lookup(parts[1] ?? '');
    const action = parts[2];
    if (parts.length === 3 && action === 'stats' && method === 'GET') return d.stats();
    if (parts.length === 3 && action !== undefined && ACTIONS.has(action) && method === 'POST') {
      req.resume();
      if (action === 'start') await d.start();
      else if (action === 'shutdown') await d.shutdown({ timeoutMs: 120_000 });
      else if (action === 'destroy') await d.destroy();
      else await d.reboot();
      return { domain: d.snapshot() };
    }
    throw new VmkitError('NotFound', `No endpoint ${method} ${url.pathname}`);
  }

  function upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const a = auth as WebAuth;
    const refuse = (status: number, why: string): void => {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(why)}\r\nConnection: close\r\n\r\n${why}`);
    };
    const problem = a.originProblem(req);
    if (problem !== undefined) return refuse(403, problem);
    if (!a.authorized(req)) return refuse(401, 'Not logged in');
    const url = new URL(req.url ?? '/', 'http://vmkit');
    const m = /^\/ws\/(events|console|vnc)(?:\/([^/]+))?$/.exec(url.pathname);
    if (m === null || (m[1] !== 'events') !== (m[2] !== undefined)) return refuse(404, `No websocket ${url.pathname}`);
    let d: Domain | undefined;
    try {
      if (m[2] !== undefined) d = conn.lookup(decodeURIComponent(m[2]));
    } catch (e) {
      return refuse(404, (e as Error).message);
    }
    const vnc = m[1] === 'vnc' ? d?.snapshot().vnc : undefined;
    if (m[1] === 'vnc' && vnc === undefined) return refuse(409, `Domain '${d?.name ?? ''}' has no VNC display running`);
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('error', () => undefined);
      if (m[1] === 'events') return events(ws);
      if (m[1] === 'vnc' && vnc !== undefined) return proxyVnc(ws, vnc);
      if (d !== undefined) consoleHub(d).add(ws, url.searchParams.get('keyboard') === '1');
    });
  }

  function events(ws: WebSocket): void {
    ws.send(JSON.stringify(feed.snapshot()));
    const off = feed.subscribe((u) => {
      if (ws.readyState === ws.OPEN && ws.bufferedAmount < 4 * 1024 * 1024) ws.send(JSON.stringify(u));
    });
    ws.once('close', off);
  }

  function consoleHub(d: Domain): ConsoleHub {
    let hub = hubs.get(d);
    if (hub === undefined) {
      const h = new ConsoleHub(d, () => {
        if (hubs.get(d) === h) hubs.delete(d);
      });
      hubs.set(d, h);
      hub = h;
    }
    return hub;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.address.host, port: opts.address.port }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((e: unknown) => {
    feed.close();
    throw new VmkitError('HostError', `Cannot listen on ${authority(opts.address.host, opts.address.port)} for --web: ${(e as Error).message}`, { cause: e });
  });
  const port = (server.address() as { port: number }).port;
  auth = new WebAuth(token, port, opts.address.loopback);
  const base = `http://${authority(opts.address.host, port)}/`;
  return {
    url: base,
    loginUrl: `${base}login?token=${token}`,
    token,
    async close() {
      feed.close();
      for (const h of hubs.values()) h.close();
      for (const ws of wss.clients) ws.terminate();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

function text(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
