/**
 * The /proc and /sys files statistics come from: thread times, QEMU's resident set, the taps of its NICs
 * and their counters. Each read is one small file; a thread or process that is gone reads as undefined.
 *
 * These files are generated from kernel memory when read: no disk, nothing to wait for. They are read
 * synchronously (tens of microseconds each): the promise API would take four thread-pool round trips per
 * file (open, fstat, read, close), which under load cost milliseconds per sample and queue behind
 * other file work of the daemon.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { NET_COUNTER_FILES, parseSchedstat, parseStatusRss, parseTaskStat, parseTunIff, type SchedStat, type TaskTimes } from './proc-parse.js';
import type { NicCounters } from './types.js';

export interface HostPaths {
  readonly proc: string;
  readonly sysNet: string;
}

export const HOST_PATHS: HostPaths = { proc: '/proc', sysNet: '/sys/class/net' };

function text(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A thread's CPU times (stat) and run/wait nanoseconds (schedstat). */
export async function readThreadTimes(pid: number, tid: number, paths: HostPaths = HOST_PATHS): Promise<{ times?: TaskTimes; sched?: SchedStat }> {
  const dir = `${paths.proc}/${pid}/task/${tid}`;
  const stat = text(`${dir}/stat`);
  const sched = text(`${dir}/schedstat`);
  const times = stat === undefined ? undefined : parseTaskStat(stat);
  const s = sched === undefined ? undefined : parseSchedstat(sched);
  return { ...(times === undefined ? {} : { times }), ...(s === undefined ? {} : { sched: s }) };
}

/** The whole process's CPU times (/proc/<pid>/stat: every thread, exited ones included). */
export async function readProcessTimes(pid: number, paths: HostPaths = HOST_PATHS): Promise<TaskTimes | undefined> {
  const stat = text(`${paths.proc}/${pid}/stat`);
  return stat === undefined ? undefined : parseTaskStat(stat);
}

export async function readRss(pid: number, paths: HostPaths = HOST_PATHS): Promise<number | undefined> {
  const status = text(`${paths.proc}/${pid}/status`);
  return status === undefined ? undefined : parseStatusRss(status);
}

export interface TunInterface {
  readonly name: string;
  /** Creation order: interface indexes are handed out in increasing order. */
  readonly ifindex: number;
  /** The bridge the interface is a port of. */
  readonly master?: string;
}

/** The tap interfaces process `pid` holds open (its /dev/net/tun descriptors), by creation order. */
export async function readTunInterfaces(pid: number, paths: HostPaths = HOST_PATHS): Promise<TunInterface[]> {
  let fds: string[];
  try {
    fds = readdirSync(`${paths.proc}/${pid}/fd`);
  } catch {
    return [];
  }
  const names = fds.map((fd) => {
    let target = '';
    try {
      target = readlinkSync(`${paths.proc}/${pid}/fd/${fd}`);
    } catch {
      return undefined;
    }
    if (target !== '/dev/net/tun') return undefined;
    const info = text(`${paths.proc}/${pid}/fdinfo/${fd}`);
    return info === undefined ? undefined : parseTunIff(info);
  });
  const unique = [...new Set(names.filter((n): n is string => n !== undefined))];
  const out = unique.map((name): TunInterface => {
    const ifindex = Number(text(`${paths.sysNet}/${name}/ifindex`)?.trim() ?? NaN);
    let master: string | undefined;
    try {
      master = basename(readlinkSync(`${paths.sysNet}/${name}/master`));
    } catch {
      master = undefined;
    }
    return { name, ifindex: Number.isFinite(ifindex) ? ifindex : Number.MAX_SAFE_INTEGER, ...(master === undefined ? {} : { master }) };
  });
  return out.sort((a, b) => a.ifindex - b.ifindex);
}

/**
 * A tap's counters as the guest sees them: what the host interface transmits, the guest receives. Undefined
 * when the interface is gone.
 */
export async function readTapCounters(ifname: string, paths: HostPaths = HOST_PATHS): Promise<NicCounters | undefined> {
  const dir = `${paths.sysNet}/${ifname}/statistics`;
  const values = NET_COUNTER_FILES.map((f) => text(`${dir}/${f}`));
  if (values.some((v) => v === undefined)) return undefined;
  const [rxB, rxP, rxE, rxD, txB, txP, txE, txD] = values.map((v) => Number(v?.trim()));
  return {
    rxBytes: txB ?? 0,
    rxPackets: txP ?? 0,
    rxErrors: txE ?? 0,
    rxDrops: txD ?? 0,
    txBytes: rxB ?? 0,
    txPackets: rxP ?? 0,
    txErrors: rxE ?? 0,
    txDrops: rxD ?? 0,
  };
}
