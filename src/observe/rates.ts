/**
 * Rates between two statistics samples of the same QEMU run: CPU use in percent of one host CPU, disk and
 * NIC throughput per second. Pure. A counter that went backwards (a new run) yields no rate.
 */
import type { DomainStats } from './types.js';

export interface DomainRates {
  readonly name: string;
  readonly seconds: number;
  /** The whole QEMU process, in % of one host CPU. */
  readonly cpuPercent: number;
  readonly vcpuPercent: readonly number[];
  /** Wait for a host CPU, per vCPU, in % of the interval. */
  readonly vcpuWaitPercent: readonly (number | undefined)[];
  readonly disks: readonly { readonly id: string; readonly readBytesPerSec: number; readonly writeBytesPerSec: number; readonly readOpsPerSec: number; readonly writeOpsPerSec: number }[];
  readonly nics: readonly { readonly id: string; readonly rxBytesPerSec: number; readonly txBytesPerSec: number }[];
}

function rate(a: number | undefined, b: number | undefined, seconds: number): number {
  if (a === undefined || b === undefined || b < a || seconds <= 0) return 0;
  return (b - a) / seconds;
}

/** Rates from `prev` to `cur`; undefined when they are not of the same run (another pid) or no time passed. */
export function ratesBetween(prev: DomainStats, cur: DomainStats): DomainRates | undefined {
  const seconds = (cur.sampledAtMs - prev.sampledAtMs) / 1000;
  if (prev.pid !== cur.pid || seconds <= 0) return undefined;
  const pct = (a: number | undefined, b: number | undefined): number => Math.round(rate(a, b, seconds) * 1000) / 10;
  const prevV = new Map(prev.vcpus.map((v) => [v.index, v]));
  const prevD = new Map(prev.disks.map((d) => [d.id, d]));
  const prevN = new Map(prev.nics.map((n) => [n.id, n]));
  return {
    name: cur.name,
    seconds,
    cpuPercent: pct(prev.cpu.userSeconds + prev.cpu.systemSeconds, cur.cpu.userSeconds + cur.cpu.systemSeconds),
    vcpuPercent: cur.vcpus.map((v) => pct(prevV.get(v.index)?.seconds, v.seconds)),
    vcpuWaitPercent: cur.vcpus.map((v) => (v.waitSeconds === undefined ? undefined : pct(prevV.get(v.index)?.waitSeconds, v.waitSeconds))),
    disks: cur.disks.map((d) => {
      const p = prevD.get(d.id);
      return { id: d.id, readBytesPerSec: rate(p?.readBytes, d.readBytes, seconds), writeBytesPerSec: rate(p?.writeBytes, d.writeBytes, seconds), readOpsPerSec: rate(p?.readOps, d.readOps, seconds), writeOpsPerSec: rate(p?.writeOps, d.writeOps, seconds) };
    }),
    nics: cur.nics.flatMap((n) => {
      const p = prevN.get(n.id)?.counters;
      if (n.counters === undefined) return [];
      return [{ id: n.id, rxBytesPerSec: rate(p?.rxBytes, n.counters.rxBytes, seconds), txBytesPerSec: rate(p?.txBytes, n.counters.txBytes, seconds) }];
    }),
  };
}

/** 1536 -> "1.5 KiB" (binary units, one decimal below 10). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? String(Math.round(v)) : v < 10 ? v.toFixed(1) : String(Math.round(v))} ${units[i]}`;
}
