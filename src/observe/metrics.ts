/**
 * The daemon's Prometheus metrics (prom-client): per-domain state, vCPU seconds, memory, disk and NIC
 * counters, start/stop latency histograms, API request latency, event-loop delay, the daemon's CPU and
 * memory. One registry per Connection, made on first use (server.ts loads this lazily).
 *
 * The per-domain families are built from one statistics sample of every running domain per scrape (each a
 * QMP round trip, all in parallel) and written straight to text (exposition.ts): a scrape of hundreds of
 * domains costs no per-series bookkeeping. prom-client keeps and renders the histograms.
 */
import { Histogram, Registry } from 'prom-client';
import type { DomainState } from '../driver/api-types.js';
import type { Connection } from '../driver/connection.js';
import type { Domain } from '../driver/domain.js';
import { writeFamily, type FamilyText, type Labels, type Sample } from './exposition.js';
import type { DomainStats } from './types.js';

const STATES: readonly DomainState[] = ['shutoff', 'starting', 'running', 'paused', 'shutting-down', 'stopping', 'crashed'];

/** How one family reads its values from a domain's sample. */
type Extract = (s: DomainStats, push: (labels: Labels, value: number) => void) => void;

const PER_SAMPLE: readonly [string, string, 'gauge' | 'counter', Extract][] = [
  ['vmkit_domain_cpu_seconds_total', 'CPU time of the whole QEMU process (every thread), by mode.', 'counter', (s, p) => {
    p({ mode: 'user' }, s.cpu.userSeconds);
    p({ mode: 'system' }, s.cpu.systemSeconds);
  }],
  ['vmkit_domain_vcpu_seconds_total', 'CPU time of each vCPU thread (utime + stime, guest time included).', 'counter', (s, p) => {
    for (const v of s.vcpus) p({ vcpu: String(v.index) }, v.seconds);
  }],
  ['vmkit_domain_vcpu_wait_seconds_total', 'Time each vCPU thread was runnable but waited for a host CPU (schedstat; the guest sees it as steal).', 'counter', (s, p) => {
    for (const v of s.vcpus) if (v.waitSeconds !== undefined) p({ vcpu: String(v.index) }, v.waitSeconds);
  }],
  ['vmkit_domain_memory_rss_bytes', 'Resident set size of the QEMU process.', 'gauge', (s, p) => p({}, s.memory.rssBytes)],
  ['vmkit_domain_memory_balloon_bytes', 'Actual size of the guest memory balloon (domains with a balloon device).', 'gauge', (s, p) => {
    if (s.memory.balloonBytes !== undefined) p({}, s.memory.balloonBytes);
  }],
  ...disk('vmkit_domain_block_read_bytes_total', 'Bytes read by the guest from each disk.', (d) => d.readBytes),
  ...disk('vmkit_domain_block_written_bytes_total', 'Bytes written by the guest to each disk.', (d) => d.writeBytes),
  ...disk('vmkit_domain_block_read_requests_total', 'Read requests of each disk.', (d) => d.readOps),
  ...disk('vmkit_domain_block_write_requests_total', 'Write requests of each disk.', (d) => d.writeOps),
  ...disk('vmkit_domain_block_flush_requests_total', 'Flush requests of each disk.', (d) => d.flushOps),
  ...disk('vmkit_domain_block_read_seconds_total', 'Total latency of the read requests of each disk.', (d) => d.readSeconds),
  ...disk('vmkit_domain_block_write_seconds_total', 'Total latency of the write requests of each disk.', (d) => d.writeSeconds),
  ...disk('vmkit_domain_block_flush_seconds_total', 'Total latency of the flush requests of each disk.', (d) => d.flushSeconds),
  ...nic('vmkit_domain_net_receive_bytes_total', 'Bytes the guest received on each NIC (tap and bridge NICs).', (c) => c.rxBytes),
  ...nic('vmkit_domain_net_transmit_bytes_total', 'Bytes the guest sent on each NIC.', (c) => c.txBytes),
  ...nic('vmkit_domain_net_receive_packets_total', 'Packets the guest received on each NIC.', (c) => c.rxPackets),
  ...nic('vmkit_domain_net_transmit_packets_total', 'Packets the guest sent on each NIC.', (c) => c.txPackets),
  ...nic('vmkit_domain_net_receive_errors_total', 'Receive errors on each NIC.', (c) => c.rxErrors),
  ...nic('vmkit_domain_net_transmit_errors_total', 'Transmit errors on each NIC.', (c) => c.txErrors),
  ...nic('vmkit_domain_net_receive_drops_total', 'Packets dropped on the way to the guest on each NIC.', (c) => c.rxDrops),
  ...nic('vmkit_domain_net_transmit_drops_total', 'Packets dropped on the way from the guest on each NIC.', (c) => c.txDrops),
];

function disk(name: string, help: string, f: (d: DomainStats['disks'][number]) => number): [string, string, 'counter', Extract][] {
  return [[name, help, 'counter', (s, p) => {
    for (const d of s.disks) p({ disk: d.id }, f(d));
  }]];
}

function nic(name: string, help: string, f: (c: NonNullable<DomainStats['nics'][number]['counters']>) => number): [string, string, 'counter', Extract][] {
  return [[name, help, 'counter', (s, p) => {
    for (const n of s.nics) if (n.counters !== undefined) p({ nic: n.id }, f(n.counters));
  }]];
}

/** Latency buckets for starts and stops under TCG as well as KVM (seconds). */
const LIFECYCLE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30];
const LAG_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1];
/** How often the event-loop delay is sampled (a timer's lateness). */
const LAG_PERIOD_MS = 10;

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;
  private readonly startSeconds = new Histogram({ name: 'vmkit_domain_start_duration_seconds', help: 'Time from a start request until the guest runs (or the start failed).', labelNames: ['outcome'], buckets: LIFECYCLE_BUCKETS, registers: [this.registry] });
  private readonly stopSeconds = new Histogram({ name: 'vmkit_domain_stop_duration_seconds', help: 'Time from a shutdown or destroy until QEMU has exited.', labelNames: ['kind'], buckets: LIFECYCLE_BUCKETS, registers: [this.registry] });
  private readonly requestSeconds = new Histogram({ name: 'vmkit_api_request_duration_seconds', help: 'Latency of the daemon API requests, by method, route and status code.', labelNames: ['method', 'route', 'code'], buckets: REQUEST_BUCKETS, registers: [this.registry] });
  private readonly loopDelay = new Histogram({ name: 'vmkit_daemon_event_loop_delay_seconds', help: `How late a ${LAG_PERIOD_MS} ms timer of the daemon ran: its event-loop delay.`, buckets: LAG_BUCKETS, registers: [this.registry] });
  private readonly since = new Map<Domain, { state: DomainState; at: number }>();
  private readonly watched = new WeakSet<Domain>();
  private readonly lagTimer: NodeJS.Timeout;
  private readonly onEvent = (ev: { type: string; domain: string }): void => {
    if (ev.type === 'defined') this.watch(this.conn.list().find((d) => d.name === ev.domain));
  };

  constructor(private readonly conn: Connection) {
    for (const d of conn.list()) this.watch(d);
    conn.on('event', this.onEvent);
    let expected = performance.now() + LAG_PERIOD_MS;
    this.lagTimer = setInterval(() => {
      const now = performance.now();
      this.loopDelay.observe(Math.max(0, now - expected) / 1000);
      expected = now + LAG_PERIOD_MS;
    }, LAG_PERIOD_MS);
    this.lagTimer.unref();
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requestSeconds.observe({ method, route, code: String(status) }, seconds);
  }

  /** The exposition text: samples every running domain, then renders. */
  async render(): Promise<string> {
    const all = this.conn.list();
    const running = all.filter((d) => d.pid !== undefined && d.state() !== 'starting');
    const samples = await Promise.all(running.map((d) => d.stats().catch(() => undefined)));
    const counts = new Map<DomainState, number>(STATES.map((s) => [s, 0]));
    const info: Sample[] = [];
    const state: Sample[] = [];
    const vcpus: Sample[] = [];
    const memory: Sample[] = [];
    for (const d of all) {
      const domain = d.name;
      const current = d.state();
      counts.set(current, (counts.get(current) ?? 0) + 1);
      info.push({ labels: { domain, uuid: d.uuid, machine: d.spec.machine.type }, value: 1 });
      for (const s of STATES) state.push({ labels: { domain, state: s }, value: s === current ? 1 : 0 });
      vcpus.push({ labels: { domain }, value: d.spec.cpu.vcpus });
      memory.push({ labels: { domain }, value: d.spec.memoryMiB * 1024 * 1024 });
    }
    const cpu = process.cpuUsage();
    const families: FamilyText[] = [
      { name: 'vmkit_domains', help: 'Defined domains by state.', type: 'gauge', samples: STATES.map((s) => ({ labels: { state: s }, value: counts.get(s) ?? 0 })) },
      { name: 'vmkit_domain_info', help: 'One series per defined domain: its UUID and machine type.', type: 'gauge', samples: info },
      { name: 'vmkit_domain_state', help: 'The state of each domain: 1 for the current state, 0 for the others.', type: 'gauge', samples: state },
      { name: 'vmkit_domain_vcpus', help: 'vCPUs of each domain, as defined.', type: 'gauge', samples: vcpus },
      { name: 'vmkit_domain_memory_defined_bytes', help: 'Memory of each domain, as defined.', type: 'gauge', samples: memory },
      { name: 'vmkit_stats_sample_failures', help: 'Running domains whose statistics could not be read in this scrape.', type: 'gauge', samples: [{ labels: {}, value: samples.filter((s) => s === undefined).length }] },
      ...PER_SAMPLE.map(([name, help, type, extract]): FamilyText => {
        const values: Sample[] = [];
        for (const s of samples) {
          if (s === undefined) continue;
          extract(s, (labels, value) => values.push({ labels: { domain: s.name, ...labels }, value }));
        }
        return { name, help, type, samples: values };
      }),
      { name: 'process_cpu_seconds_total', help: 'CPU time of the daemon process (user and system).', type: 'counter', samples: [{ labels: {}, value: (cpu.user + cpu.system) / 1e6 }] },
      { name: 'process_resident_memory_bytes', help: 'Resident set size of the daemon process.', type: 'gauge', samples: [{ labels: {}, value: process.memoryUsage.rss() }] },
      { name: 'process_start_time_seconds', help: 'Start time of the daemon process since the Unix epoch.', type: 'gauge', samples: [{ labels: {}, value: PROCESS_START_SECONDS }] },
    ];
    let text = '';
    for (const f of families) text += writeFamily(f);
    return text + (await this.registry.metrics());
  }

  close(): void {
    clearInterval(this.lagTimer);
    this.conn.off('event', this.onEvent);
    this.registry.clear();
  }

  /** Times starts and stops from the domain's state changes. */
  private watch(d: Domain | undefined): void {
    if (d === undefined || this.watched.has(d)) return;
    this.watched.add(d);
    d.on('state', (s) => {
      const now = performance.now();
      const before = this.since.get(d);
      if (s === 'starting' || s === 'shutting-down' || s === 'stopping') {
        // A destroy during a shutdown still counts from the shutdown request.
        if (!(s === 'stopping' && before?.state === 'shutting-down')) this.since.set(d, { state: s, at: now });
        return;
      }
      this.since.delete(d);
      if (before === undefined) return;
      const seconds = (now - before.at) / 1000;
      if (before.state === 'starting') this.startSeconds.observe({ outcome: s === 'shutoff' ? 'failed' : 'ok' }, seconds);
      else if (s === 'shutoff') this.stopSeconds.observe({ kind: before.state === 'shutting-down' ? 'shutdown' : 'destroy' }, seconds);
    });
  }
}

const PROCESS_START_SECONDS = Math.round((Date.now() - performance.now()) / 1000);

const perConnection = new WeakMap<Connection, DaemonMetrics>();

/** The metrics of `conn` (made on first call). */
export function daemonMetrics(conn: Connection): DaemonMetrics {
  let m = perConnection.get(conn);
  if (m === undefined) {
    m = new DaemonMetrics(conn);
    perConnection.set(conn, m);
  }
  return m;
}
