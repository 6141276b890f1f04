/**
 * What `vmkit daemon --web/--metrics` adds to a started daemon: the dashboard and the metrics listener,
 * with the one start line that carries the dashboard's token.
 */
import type { Connection } from '../driver/connection.js';
import { enableMetrics } from '../api/routes-observe.js';
import { parseListenAddress, type ListenAddress } from './listen-address.js';

export interface ObserveAddresses {
  readonly web?: ListenAddress;
  readonly metrics?: ListenAddress;
}

export interface Observing {
  /** For the daemon's ready line (JSON): the dashboard's login URL and token, the metrics URL. */
  readonly ready: { web?: { url: string; loginUrl: string; token: string }; metrics?: { url: string } };
  close(): Promise<void>;
}

/** Checks the addresses before anything starts (InvalidArgument naming the flag). */
export function parseObserveFlags(flags: { web?: string; metrics?: string; allowNonLoopback?: boolean }): ObserveAddresses {
  const allow = flags.allowNonLoopback === true;
  return {
    ...(flags.web === undefined ? {} : { web: parseListenAddress(flags.web, '--web', allow) }),
    ...(flags.metrics === undefined ? {} : { metrics: parseListenAddress(flags.metrics, '--metrics', allow) }),
  };
}

export async function startObserve(conn: Connection, addresses: ObserveAddresses, log: (line: string) => void): Promise<Observing> {
  // Metrics from the start, so that the start/stop and request histograms cover the daemon's whole life.
  await enableMetrics(conn);
  const closers: (() => Promise<void>)[] = [];
  const ready: Observing['ready'] = {};
  try {
    if (addresses.metrics !== undefined) {
      const { startMetricsServer } = await import('./metrics-server.js');
      const m = await startMetricsServer(conn, addresses.metrics);
      closers.push(() => m.close());
      ready.metrics = { url: m.url };
      log(`Prometheus metrics on ${m.url} (no token${addresses.metrics.loopback ? '; loopback only' : '; NOT loopback: anyone who reaches it can read them'})`);
    }
    if (addresses.web !== undefined) {
      const { startWeb } = await import('./server.js');
      const w = await startWeb(conn, { address: addresses.web, log });
      closers.push(() => w.close());
      ready.web = { url: w.url, loginUrl: w.loginUrl, token: w.token };
      if (!addresses.web.loopback) log(`WARNING: the web dashboard listens on ${w.url}, not on loopback: its token travels in plain HTTP`);
      log(`web dashboard: open ${w.loginUrl} (the token is valid until the daemon stops; it is not printed again)`);
    }
  } catch (e) {
    for (const c of closers.reverse()) await c();
    throw e;
  }
  return {
    ready,
    async close() {
      for (const c of closers.reverse()) await c();
    },
  };
}
