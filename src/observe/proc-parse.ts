/**
 * Parsers for the /proc and /sys text vmkit reads for statistics. Pure: text in, numbers out.
 */

export interface TaskTimes {
  /** Clock ticks (CLK_TCK) in user mode, guest time included. */
  readonly utime: number;
  readonly stime: number;
  /** Clock ticks spent running a guest (a subset of utime). */
  readonly guestTime: number;
}

/**
 * Fields 14, 15 and 43 of /proc/<pid>[/task/<tid>]/stat. comm (field 2) may hold spaces and parentheses:
 * fields are counted after the last ')'. Undefined when the text is not a stat line.
 */
export function parseTaskStat(text: string): TaskTimes | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // rest[0] is field 3 (state): field n is rest[n - 3].
  const rest = text.slice(close + 2).trim().split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const guest = Number(rest[40] ?? 0);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || rest[11] === undefined || rest[12] === undefined) return undefined;
  return { utime, stime, guestTime: Number.isFinite(guest) ? guest : 0 };
}

export interface SchedStat {
  /** Nanoseconds on a CPU. */
  readonly runNs: number;
  /** Nanoseconds runnable, waiting for a CPU. */
  readonly waitNs: number;
  readonly timeslices: number;
}

/** /proc/<pid>/task/<tid>/schedstat: "run_ns wait_ns timeslices". */
export function parseSchedstat(text: string): SchedStat | undefined {
  const [run, wait, slices] = text.trim().split(/\s+/).map(Number);
  if (run === undefined || wait === undefined || !Number.isFinite(run) || !Number.isFinite(wait)) return undefined;
  return { runNs: run, waitNs: wait, timeslices: slices !== undefined && Number.isFinite(slices) ? slices : 0 };
}

/** VmRSS of /proc/<pid>/status, in bytes (the kernel writes kB); undefined when absent (a zombie). */
export function parseStatusRss(text: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
}

/** The interface a /dev/net/tun descriptor is attached to: the `iff:` line of /proc/<pid>/fdinfo/<fd>. */
export function parseTunIff(fdinfo: string): string | undefined {
  const m = /^iff:\s+(\S+)$/m.exec(fdinfo);
  return m?.[1];
}

/** The eight counters of /sys/class/net/<if>/statistics that vmkit reports, as the host interface sees them. */
export const NET_COUNTER_FILES = ['rx_bytes', 'rx_packets', 'rx_errors', 'rx_dropped', 'tx_bytes', 'tx_packets', 'tx_errors', 'tx_dropped'] as const;
export type NetCounterFile = (typeof NET_COUNTER_FILES)[number];
