/**
 * `vmkit daemon --metrics 127.0.0.1:9177`: the Prometheus metrics on a TCP address for a scraper, besides
 * the daemon's socket. Read-only data, served without a token: it listens on loopback unless the daemon was
 * told --allow-non-loopback (then anyone who reaches it reads domain names and activity). GET /metrics only.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { enableMetrics } from '../api/routes-observe.js';
import type { Connection } from '../driver/connection.js';
import { VmkitError } from '../errors.js';
import { authority, type ListenAddress } from './listen-address.js';

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(conn: Connection, address: ListenAddress): Promise<MetricsServer> {
  const metrics = await enableMetrics(conn);
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://vmkit').pathname;
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (path !== '/metrics') return reply(404, 'Only /metrics is served here\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'Use GET\n');
    metrics.render().then(
      (body) => reply(200, body, metrics.contentType),
      (e: unknown) => reply(500, `Cannot render the metrics: ${(e as Error).message}\n`),
    );
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address.host, port: address.port }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((e: unknown) => {
    throw new VmkitError('HostError', `Cannot listen on ${authority(address.host, address.port)} for --metrics: ${(e as Error).message}`, { cause: e });
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${authority(address.host, port)}/metrics`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
