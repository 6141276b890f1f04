/**
 * `vmkit stats NAME [--watch [SECONDS]] [--json]`: one statistics sample of a running domain (cumulative
 * counters), or with --watch a line of rates per interval until Ctrl-C or the domain stops (NDJSON samples
 * with --json).
 */
import type { VmDomain } from '../../driver/api-types.js';
import { VmkitError } from '../../errors.js';
import { formatBytes, ratesBetween, type DomainRates } from '../../observe/rates.js';
import type { DomainStats } from '../../observe/types.js';
import { EXIT } from '../exit-codes.js';
import { printJson } from '../output.js';
import { secondsFlag, withConnection, type ConnectFlags } from './remote.js';

export interface StatsFlags extends ConnectFlags {
  readonly watch?: string | boolean;
}

export function statsCommand(name: string, flags: StatsFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const d = conn.lookup(name);
    if (flags.watch === undefined || flags.watch === false) {
      const s = await d.stats();
      if (flags.json === true) printJson(s);
      else process.stdout.write(`${describeStats(s)}\n`);
      return EXIT.ok;
    }
    const intervalMs = secondsFlag('--watch', flags.watch === true ? undefined : flags.watch, 2000) ?? 2000;
    if (intervalMs < 100) throw new VmkitError('InvalidArgument', `--watch must be at least 0.1 seconds, got '${String(flags.watch)}'`, { details: { flag: '--watch' } });
    return watch(d, intervalMs, flags.json === true);
  });
}

async function watch(d: VmDomain, intervalMs: number, json: boolean): Promise<number> {
  let stop = false;
  const onSig = (): void => {
    stop = true;
  };
  process.once('SIGINT', onSig);
  try {
    let prev = await d.stats();
    if (json) process.stdout.write(`${JSON.stringify(prev)}\n`);
    else process.stdout.write(`${describeStats(prev)}\n\n${rateHeader(prev)}\n`);
    while (!stop) {
      await new Promise((r) => setTimeout(r, intervalMs));
      if (stop) break;
      let cur: DomainStats;
      try {
        cur = await d.stats();
      } catch (e) {
        if (e instanceof VmkitError && e.code === 'InvalidState') {
          process.stderr.write(`Domain '${d.name}' stopped\n`);
          return EXIT.ok;
        }
        throw e;
      }
      if (json) process.stdout.write(`${JSON.stringify(cur)}\n`);
      else {
        const r = ratesBetween(prev, cur);
        if (r !== undefined) process.stdout.write(`${rateLine(r)}\n`);
      }
      prev = cur;
    }
    return EXIT.ok;
  } finally {
    process.off('SIGINT', onSig);
  }
}

function rateHeader(s: DomainStats): string {
  return ['cpu%', ...s.vcpus.map((v) => `vcpu${v.index}%`), 'disk read/s', 'disk write/s', 'net rx/s', 'net tx/s'].join('  ');
}

function rateLine(r: DomainRates): string {
  const sum = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((a, x) => a + f(x), 0);
  return [
    r.cpuPercent.toFixed(1).padStart(4),
    ...r.vcpuPercent.map((p, i) => p.toFixed(1).padStart(`vcpu${i}%`.length)),
    formatBytes(sum(r.disks, (d) => d.readBytesPerSec)).padStart(11),
    formatBytes(sum(r.disks, (d) => d.writeBytesPerSec)).padStart(12),
    formatBytes(sum(r.nics, (n) => n.rxBytesPerSec)).padStart(8),
    formatBytes(sum(r.nics, (n) => n.txBytesPerSec)).padStart(8),
  ].join('  ');
}

/** The human text of one sample. */
export function describeStats(s: DomainStats): string {
  const sec = (n: number): string => `${n.toFixed(2)} s`;
  const lines = [
    `Domain '${s.name}' (${s.state}, pid ${s.pid})`,
    `QEMU CPU    user ${sec(s.cpu.userSeconds)}, system ${sec(s.cpu.systemSeconds)}`,
    ...s.vcpus.map((v) => `vCPU ${String(v.index).padEnd(6)} ${sec(v.seconds)} (user ${sec(v.userSeconds)}, system ${sec(v.systemSeconds)})${v.waitSeconds === undefined ? '' : `, waited ${sec(v.waitSeconds)} for a host CPU`} [thread ${v.tid}]`),
    `Memory      defined ${formatBytes(s.memory.definedBytes)}, QEMU RSS ${formatBytes(s.memory.rssBytes)}, balloon ${s.memory.balloonBytes === undefined ? 'none' : formatBytes(s.memory.balloonBytes)}`,
    ...s.disks.map((d) => `Disk ${d.id.padEnd(6)} read ${d.readOps} (${formatBytes(d.readBytes)}, ${sec(d.readSeconds)}), written ${d.writeOps} (${formatBytes(d.writeBytes)}, ${sec(d.writeSeconds)}), flushed ${d.flushOps} (${sec(d.flushSeconds)})`),
    ...s.nics.map(describeNic),
  ];
  return lines.join('\n');
}

function describeNic(n: DomainStats['nics'][number]): string {
  const c = n.counters;
  if (c === undefined) return `NIC ${n.id.padEnd(7)} ${n.kind}: counters not available: ${n.unavailable ?? 'unknown'}`;
  return `NIC ${n.id.padEnd(7)} ${n.kind} via ${n.hostIf ?? '?'}: received ${c.rxPackets} packets (${formatBytes(c.rxBytes)}, ${c.rxErrors} errors, ${c.rxDrops} dropped), sent ${c.txPackets} (${formatBytes(c.txBytes)}, ${c.txErrors} errors, ${c.txDrops} dropped)`;
}
