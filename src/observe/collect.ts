/**
 * One statistics sample of a running QEMU: the QMP queries go out together (one round trip: query-cpus-fast,
 * query-blockstats, query-balloon), the /proc reads that need no thread id run meanwhile, then each vCPU
 * thread's stat and schedstat, and each NIC's tap counters.
 */
import type { DomainState } from '../driver/api-types.js';
import { VmkitError } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';
import type { QmpClient } from '../qmp/index.js';
import { clockTicks } from './clock-ticks.js';
import { HOST_PATHS, readProcessTimes, readRss, readTapCounters, readThreadTimes, readTunInterfaces, type HostPaths } from './host-reads.js';
import { mapNics, type NicSource } from './nic-map.js';
import { parseBalloon, parseBlockstats, parseVcpuThreads } from './qmp-parse.js';
import type { DomainStats, NicStats, VcpuStats } from './types.js';

export interface StatsTarget {
  readonly name: string;
  readonly uuid: string;
  readonly state: DomainState;
  readonly pid: number;
  readonly spec: DomainSpec;
  readonly qmp: QmpClient;
}

/** Bound on the QMP round trip of one sample. */
const QMP_TIMEOUT_MS = 5000;

/** Which tap carries each NIC, per QEMU run (taps do not change while it runs). */
const nicSources = new WeakMap<QmpClient, Promise<NicSource[]>>();

export async function collectStats(t: StatsTarget, paths: HostPaths = HOST_PATHS): Promise<DomainStats> {
  const opts = { timeoutMs: QMP_TIMEOUT_MS };
  const wantsBalloon = t.spec.rawOptions !== undefined || t.spec.balloon !== undefined;
  const [cpus, blocks, balloon, process, rss, nics] = await Promise.all([
    t.qmp.execute('query-cpus-fast', undefined, opts),
    t.qmp.execute('query-blockstats', undefined, opts),
    wantsBalloon ? t.qmp.execute('query-balloon', undefined, opts).catch(() => undefined) : undefined,
    readProcessTimes(t.pid, paths),
    readRss(t.pid, paths),
    nicStats(t, paths),
  ]);
  if (process === undefined || rss === undefined) {
    throw new VmkitError('InvalidState', `Cannot read the statistics of domain '${t.name}': its QEMU (pid ${t.pid}) has exited`, { details: { domain: t.name, pid: t.pid } });
  }
  const hz = clockTicks();
  const vcpus = await Promise.all(
    parseVcpuThreads(cpus).map(async ({ index, tid }): Promise<VcpuStats> => {
      const { times, sched } = await readThreadTimes(t.pid, tid, paths);
      const user = (times?.utime ?? 0) / hz;
      const system = (times?.stime ?? 0) / hz;
      return { index, tid, seconds: user + system, userSeconds: user, systemSeconds: system, ...(sched === undefined ? {} : { waitSeconds: sched.waitNs / 1e9 }) };
    }),
  );
  const balloonBytes = parseBalloon(balloon);
  return {
    name: t.name,
    uuid: t.uuid,
    state: t.state,
    pid: t.pid,
    sampledAtMs: Date.now(),
    cpu: { userSeconds: process.utime / hz, systemSeconds: process.stime / hz },
    vcpus,
    memory: { definedBytes: t.spec.memoryMiB * 1024 * 1024, rssBytes: rss, ...(balloonBytes === undefined ? {} : { balloonBytes }) },
    disks: parseBlockstats(blocks),
    nics,
  };
}

async function nicStats(t: StatsTarget, paths: HostPaths): Promise<NicStats[]> {
  if (t.spec.nics.length === 0) return [];
  let sources = nicSources.get(t.qmp);
  const helperTaps = t.spec.nics.some((n) => n.kind === 'bridge' || n.kind === 'network');
  if (sources === undefined) {
    sources = (helperTaps ? readTunInterfaces(t.pid, paths) : Promise.resolve([])).then((taps) => mapNics(t.spec.nics, taps));
    nicSources.set(t.qmp, sources);
  }
  return Promise.all(
    (await sources).map(async (s): Promise<NicStats> => {
      if ('unavailable' in s) return s;
      const counters = await readTapCounters(s.hostIf, paths);
      return counters === undefined ? { id: s.id, kind: s.kind, hostIf: s.hostIf, unavailable: `its tap ${s.hostIf} is gone` } : { id: s.id, kind: s.kind, hostIf: s.hostIf, counters };
    }),
  );
}
