/**
 * Observation benchmarks (issue 16), against a real `vmkit daemon --web` child process:
 *  - GET /metrics on the daemon socket with 256 defined domains, a few of them running (paused): round-trip
 *    time (median, p90, max) against GET /v1/daemon in the same run; target: median <= 20 ms;
 *  - the daemon's event-loop delay (p99) while 16 websocket console viewers follow the chatty tiny guest
 *    (TCG) for BENCH_OBSERVE_SECONDS (10), against the same guest with no viewer; target: p99 <= 20 ms;
 *  - one statistics sample of a running domain (Domain.stats over the socket): round-trip time.
 * `observeBench()` returns the markdown; `node dist/bench/observe.js` runs it alone.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { RemoteConnection } from '../src/api/client.js';
import { spawnDaemon } from '../test/api/daemon-process.js';
import { killQemusUnder, pausedYaml } from '../test/driver/fixtures.js';
import { tinyYaml } from '../test/helpers/guest.js';
import { summarize, type Summary } from './stats.js';

export interface ObserveBenchResult {
  readonly markdown: string;
  readonly metrics: Summary;
  readonly baseline: Summary;
  readonly lagP99WithViewers: number;
  readonly lagP99Without: number;
}

function get(socket: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request({ socketPath: socket, path, method: 'GET', agent: false }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`${path}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

const f = (n: number): string => n.toFixed(1);

export async function observeBench(opts: { runs?: number; log?: (line: string) => void } = {}): Promise<ObserveBenchResult> {
  const runs = Math.max(20, opts.runs ?? 50);
  const seconds = Number(process.env.BENCH_OBSERVE_SECONDS ?? 10);
  const log = opts.log ?? ((l: string) => process.stderr.write(`bench: ${l}\n`));
  const base = await mkdtemp(join(tmpdir(), 'vmkit-bench-observe-'));
  await chmod(base, 0o711);
  const root = join(base, 'root');
  const socket = join(base, 'd.sock');
  const daemon = await spawnDaemon(socket, root, ['--web', '127.0.0.1:0']);
  const web = (daemon.ready as unknown as { web: { url: string; token: string } }).web;
  const conn = await RemoteConnection.open(socket);
  try {
    // 256 defined domains, 4 of them running (paused): state series for all, full samples for those.
    const out = await conn.defineMany(Array.from({ length: 256 }, (_, i) => ({ input: { text: pausedYaml(`m${String(i).padStart(3, '0')}`, '32M') } })));
    if (out.some((o) => !o.ok)) throw new Error('defining the 256 domains failed');
    await Promise.all(['m000', 'm001', 'm002', 'm003'].map((n) => conn.lookup(n).start({ paused: true })));
    log('metrics: 256 domains defined, 4 running');
    for (let i = 0; i < 5; i++) {
      await get(socket, '/metrics');
      await get(socket, '/v1/daemon');
    }
    const m: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) {
        m.push(await get(socket, '/metrics'));
        b.push(await get(socket, '/v1/daemon'));
      } else {
        b.push(await get(socket, '/v1/daemon'));
        m.push(await get(socket, '/metrics'));
      }
    }
    const metrics = summarize(m);
    const baseline = summarize(b);
    log(`/metrics median ${f(metrics.median)} ms (p90 ${f(metrics.p90)}), /v1/daemon ${f(baseline.median)} ms`);
    await Promise.all(['m000', 'm001', 'm002', 'm003'].map((n) => conn.lookup(n).destroy()));
    const s = conn.lookup('m004');
    await s.start({ paused: true });
    const st: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await s.stats();
      st.push(performance.now() - t0);
    }
    const statsRt = summarize(st);
    await s.destroy();

    // The chatty guest, first alone, then followed by 16 console viewers.
    const chatty = await conn.define({ text: tinyYaml({ name: 'chatty', action: 'chatty' }) });
    let printed = 0;
    await chatty.start({ paused: true });
    const own = await chatty.openConsole();
    own.on('data', (c: Buffer) => (printed += c.length));
    await chatty.resume();
    const t0 = Date.now();
    while (printed < 64 * 1024 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
    if (printed < 64 * 1024) throw new Error('the chatty guest did not start printing within 60 s');
    const phase = async (viewers: number): Promise<{ p99: number; max: number; bytesPerViewer: number; guestBytesPerSec: number }> => {
      const host = new URL(web.url).host;
      const sockets = await Promise.all(
        Array.from({ length: viewers }, () => new Promise<{ ws: WebSocket; bytes: { n: number } }>((resolve, reject) => {
          const ws = new WebSocket(`ws://${host}/ws/console/chatty`, { headers: { Authorization: `Bearer ${web.token}` } });
          const bytes = { n: 0 };
          ws.on('message', (d, binary) => {
            if (binary) bytes.n += (d as Buffer).length;
          });
          ws.once('open', () => resolve({ ws, bytes }));
          ws.once('error', reject);
        })),
      );
      await new Promise((r) => setTimeout(r, 1000));
      for (const v of sockets) v.bytes.n = 0;
      await conn.resetDaemonStats();
      const before = printed;
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const lag = (await conn.daemonStatus()).eventLoopDelayMs;
      const guestBytesPerSec = (printed - before) / seconds;
      const bytesPerViewer = sockets.length === 0 ? 0 : sockets.reduce((a, v) => a + v.bytes.n, 0) / sockets.length;
      for (const v of sockets) v.ws.close();
      return { p99: lag.p99, max: lag.max, bytesPerViewer, guestBytesPerSec };
    };
    const alone = await phase(0);
    log(`chatty guest, no viewer: event-loop p99 ${alone.p99} ms; the guest printed ${Math.round(alone.guestBytesPerSec / 1024)} KiB/s`);
    const followed = await phase(16);
    log(`chatty guest, 16 viewers: event-loop p99 ${followed.p99} ms (max ${followed.max}); each viewer got ${Math.round(followed.bytesPerViewer / seconds / 1024)} KiB/s`);
    await chatty.destroy();
    const markdown = [
      '## Observation (issue 16)',
      '',
      '| measurement | baseline | vmkit | target |',
      '| --- | --- | --- | --- |',
      `| GET /metrics, 256 defined domains, 4 running (socket round trip, ${runs} runs) | GET /v1/daemon: median ${f(baseline.median)} ms | median ${f(metrics.median)} ms, p90 ${f(metrics.p90)}, max ${f(metrics.max)} | median ≤ 20 ms ${metrics.median <= 20 ? '✓' : '✗'} |`,
      `| daemon event-loop delay, chatty guest (${Math.round(followed.guestBytesPerSec / 1024)} KiB/s of console), ${seconds} s | no viewer: p99 ${alone.p99} ms, max ${alone.max} ms | 16 websocket viewers: p99 ${followed.p99} ms, max ${followed.max} ms; ${Math.round(followed.bytesPerViewer / seconds / 1024)} KiB/s to each | p99 ≤ 20 ms ${followed.p99 <= 20 ? '✓' : '✗'} |`,
      `| one statistics sample of a running (paused) domain, over the socket | | median ${f(statsRt.median)} ms, p90 ${f(statsRt.p90)} | |`,
      '',
    ].join('\n');
    return { markdown, metrics, baseline, lagP99WithViewers: followed.p99, lagP99Without: alone.p99 };
  } finally {
    await conn.close();
    await daemon.kill9();
    await killQemusUnder(root);
    await rm(base, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  observeBench().then(
    (r) => process.stdout.write(`${r.markdown}\n`),
    (e: unknown) => {
      process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
