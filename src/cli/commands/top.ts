/**
 * `vmkit top [--interval SECONDS] [--once] [--json]`: every domain with its CPU, memory, disk and network
 * rates, refreshed like virt-top (one request per refresh to a daemon). --once prints one table (two samples
 * an interval apart) and exits; --json prints one JSON object per refresh.
 */
import { RemoteConnection } from '../../api/client.js';
import type { VmConnection } from '../../driver/api-types.js';
import { VmkitError } from '../../errors.js';
import { formatBytes, ratesBetween, type DomainRates } from '../../observe/rates.js';
import type { DomainStats } from '../../observe/types.js';
import { EXIT } from '../exit-codes.js';
import { secondsFlag, table, withConnection, type ConnectFlags } from './remote.js';
import { compareNames } from '../../util/compare.js';

export interface TopFlags extends ConnectFlags {
  readonly interval?: string;
  readonly once?: boolean;
}

export function topCommand(flags: TopFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const intervalMs = secondsFlag('--interval', flags.interval, 2000) ?? 2000;
    if (intervalMs < 100) throw new VmkitError('InvalidArgument', `--interval must be at least 0.1 seconds, got '${flags.interval ?? ''}'`, { details: { flag: '--interval' } });
    let stop = false;
    const onSig = (): void => {
      stop = true;
    };
    process.once('SIGINT', onSig);
    const tty = process.stdout.isTTY === true && flags.once !== true && flags.json !== true;
    try {
      let prev = byName(await sampleAll(conn));
      while (!stop) {
        await new Promise((r) => setTimeout(r, intervalMs));
        if (stop) break;
        const cur = byName(await sampleAll(conn));
        const rows = conn.list().map((d) => {
          const s = cur.get(d.name);
          const p = prev.get(d.name);
          return { name: d.name, state: d.state(), stats: s, rates: s !== undefined && p !== undefined ? ratesBetween(p, s) : undefined };
        });
        rows.sort((a, b) => (b.rates?.cpuPercent ?? -1) - (a.rates?.cpuPercent ?? -1) || compareNames(a.name, b.name));
        if (flags.json === true) process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), domains: rows })}\n`);
        else process.stdout.write(`${tty ? '\x1b[H\x1b[2J' : ''}${render(rows, intervalMs)}\n`);
        prev = cur;
        if (flags.once === true) break;
      }
      return EXIT.ok;
    } finally {
      process.off('SIGINT', onSig);
    }
  });
}

/** A sample of every running domain: one request to a daemon, else one call per domain. */
async function sampleAll(conn: VmConnection): Promise<DomainStats[]> {
  if (conn instanceof RemoteConnection) return conn.allStats();
  const running = conn.list().filter((d) => d.pid !== undefined && d.state() !== 'starting');
  return (await Promise.all(running.map((d) => d.stats().catch(() => undefined)))).filter((s): s is DomainStats => s !== undefined);
}

function byName(samples: readonly DomainStats[]): Map<string, DomainStats> {
  return new Map(samples.map((s) => [s.name, s]));
}

function render(rows: readonly { name: string; state: string; stats: DomainStats | undefined; rates: DomainRates | undefined }[], intervalMs: number): string {
  const sum = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((a, x) => a + f(x), 0);
  const running = rows.filter((r) => r.stats !== undefined).length;
  const head = `vmkit top - ${new Date().toLocaleTimeString()}, ${rows.length} domains, ${running} running, every ${intervalMs / 1000} s`;
  const body = table(
    ['NAME', 'STATE', 'CPU%', 'VCPUS', 'RSS', 'DISK RD/s', 'DISK WR/s', 'NET RX/s', 'NET TX/s'],
    rows.map((r) => {
      const x = r.rates;
      return [
        r.name,
        r.state,
        x === undefined ? '-' : x.cpuPercent.toFixed(1),
        r.stats === undefined ? '-' : String(r.stats.vcpus.length),
        r.stats === undefined ? '-' : formatBytes(r.stats.memory.rssBytes),
        x === undefined ? '-' : formatBytes(sum(x.disks, (d) => d.readBytesPerSec)),
        x === undefined ? '-' : formatBytes(sum(x.disks, (d) => d.writeBytesPerSec)),
        x === undefined || x.nics.length === 0 ? '-' : formatBytes(sum(x.nics, (n) => n.rxBytesPerSec)),
        x === undefined || x.nics.length === 0 ? '-' : formatBytes(sum(x.nics, (n) => n.txBytesPerSec)),
      ];
    }),
  );
  return `${head}\n\n${body}`;
}
