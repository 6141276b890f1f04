/**
 * The daemon's observation endpoints on its socket (behind the same peer-credential check as every route):
 *   GET /metrics                 Prometheus text exposition (observe/metrics.ts, loaded on first use)
 *   GET /v1/stats                one statistics sample of every running domain
 *   GET /v1/domains/{id}/stats   one domain's sample
 * and the timing of every API request for the metrics. Light on purpose: server.ts imports it statically;
 * prom-client and the collectors load only when metrics are asked for (or the daemon runs with --metrics/--web).
 */
import type http from 'node:http';
import type { Connection } from '../driver/connection.js';
import type { DomainStats } from '../observe/types.js';
import type { DaemonMetrics } from '../observe/metrics.js';
import { errorBody } from './http-errors.js';

type RequestSink = (method: string, route: string, status: number, seconds: number) => void;
let sink: RequestSink | undefined;

/** The metrics of `conn`, loading prom-client on first use; from then on API requests are timed. */
export async function enableMetrics(conn: Connection): Promise<DaemonMetrics> {
  const { daemonMetrics } = await import('../observe/metrics.js');
  const m = daemonMetrics(conn);
  sink ??= (method, route, status, seconds) => m.observeRequest(method, route, status, seconds);
  return m;
}

/** Called first for every request: times it once metrics are on (nothing otherwise). */
export function timeRequest(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
  if (sink === undefined) return;
  const t0 = performance.now();
  const s = sink;
  res.once('finish', () => s(req.method ?? 'GET', routeTemplate(url.pathname), res.statusCode, (performance.now() - t0) / 1000));
}

/** A path with its domain named as `{id}`, so that requests group by endpoint. */
export function routeTemplate(path: string): string {
  const parts = path.split('/');
  if (parts[1] === 'v1' && parts[2] === 'domains' && parts.length > 3 && parts[3] !== '') parts[3] = '{id}';
  const t = parts.join('/');
  return KNOWN.test(t) ? t : 'other';
}

const KNOWN = /^\/(metrics|openapi\.json|v1\/(daemon(\/reset-stats)?|events|stats|batch\/define|domains(\/\{id\}(\/(start|shutdown|destroy|reboot|suspend|resume|definition|stats|console))?)?))$/;

/** Serves the observation endpoints; false for any other request (server.ts routes it). */
export async function serveObserve(conn: Connection, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> {
  const path = url.pathname;
  const stats = /^\/v1\/domains\/([^/]+)\/stats$/.exec(path);
  if (path !== '/metrics' && path !== '/v1/stats' && stats === null) return false;
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const { VmkitError } = await import('../errors.js');
      throw new VmkitError('InvalidArgument', `Method ${req.method ?? '?'} is not allowed on ${path}: use GET`, { details: { method: req.method, path } });
    }
    if (path === '/metrics') {
      const m = await enableMetrics(conn);
      send(res, 200, m.contentType, await m.render());
    } else if (path === '/v1/stats') {
      send(res, 200, 'application/json', JSON.stringify({ domains: await allStats(conn) }));
    } else {
      const d = conn.lookup(decodeURIComponent(stats?.[1] ?? ''));
      send(res, 200, 'application/json', JSON.stringify(await d.stats()));
    }
  } catch (e) {
    const { status, body } = errorBody(e);
    send(res, status, 'application/json', JSON.stringify(body));
  }
  return true;
}

/** A sample of every domain whose QEMU runs (a domain that stops meanwhile is left out). */
export async function allStats(conn: Connection): Promise<DomainStats[]> {
  const running = conn.list().filter((d) => d.pid !== undefined && d.state() !== 'starting');
  const samples = await Promise.all(running.map((d) => d.stats().catch(() => undefined)));
  return samples.filter((s): s is DomainStats => s !== undefined);
}

function send(res: http.ServerResponse, status: number, type: string, text: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
