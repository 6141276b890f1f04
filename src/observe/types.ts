/**
 * What `Domain.stats()` returns: cumulative counters of one running QEMU, read in one QMP round trip plus
 * a few /proc and /sys files. Rates are the caller's business (two samples and `sampledAtMs`).
 */
import type { DomainState } from '../driver/api-types.js';

export interface VcpuStats {
  readonly index: number;
  /** The vCPU thread's id on the host (query-cpus-fast). */
  readonly tid: number;
  /** utime + stime of the thread (/proc/<pid>/task/<tid>/stat), guest time included. */
  readonly seconds: number;
  readonly userSeconds: number;
  readonly systemSeconds: number;
  /** Time the thread was runnable but waited for a host CPU (schedstat): what the guest sees as steal. */
  readonly waitSeconds?: number;
}

export interface MemoryStats {
  /** The definition's memory. */
  readonly definedBytes: number;
  /** QEMU's resident set (/proc/<pid>/status VmRSS). */
  readonly rssBytes: number;
  /** The balloon's actual size (query-balloon); absent without a balloon device. */
  readonly balloonBytes?: number;
}

export interface DiskStats {
  /** The definition's disk id (the device id QEMU reports), or QEMU's own name for disks vmkit did not name. */
  readonly id: string;
  readonly readOps: number;
  readonly writeOps: number;
  readonly flushOps: number;
  readonly readBytes: number;
  readonly writeBytes: number;
  /** Latency totals: the sum of every request's time (query-blockstats *_total_time_ns). */
  readonly readSeconds: number;
  readonly writeSeconds: number;
  readonly flushSeconds: number;
}

/** A NIC's counters, from the guest's point of view (a tap's transmit is the guest's receive). */
export interface NicCounters {
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly rxErrors: number;
  readonly rxDrops: number;
  readonly txBytes: number;
  readonly txPackets: number;
  readonly txErrors: number;
  readonly txDrops: number;
}

export interface NicStats {
  readonly id: string;
  readonly kind: string;
  /** The host interface the counters come from (the NIC's tap). */
  readonly hostIf?: string;
  readonly counters?: NicCounters;
  /** Why there are no counters (user-mode networking keeps none QEMU reports, say). */
  readonly unavailable?: string;
}

export interface DomainStats {
  readonly name: string;
  readonly uuid: string;
  readonly state: DomainState;
  readonly pid: number;
  /** Date.now() when the sample was taken. */
  readonly sampledAtMs: number;
  /** QEMU's whole process: every thread's utime and stime. */
  readonly cpu: { readonly userSeconds: number; readonly systemSeconds: number };
  readonly vcpus: readonly VcpuStats[];
  readonly memory: MemoryStats;
  readonly disks: readonly DiskStats[];
  readonly nics: readonly NicStats[];
}
