/** The pure parts of statistics: /proc and /sys text, QMP replies, tap mapping, rates (recorded inputs). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NicSpec } from '../../src/model/domain.js';
import { mapNics } from '../../src/observe/nic-map.js';
import { parseSchedstat, parseStatusRss, parseTaskStat, parseTunIff } from '../../src/observe/proc-parse.js';
import { blockEntryId, parseBalloon, parseBlockstats, parseVcpuThreads } from '../../src/observe/qmp-parse.js';
import { formatBytes, ratesBetween } from '../../src/observe/rates.js';
import type { DomainStats } from '../../src/observe/types.js';
import { VmkitError } from '../../src/errors.js';

// A vCPU thread of QEMU 7.2 as /proc/<pid>/task/<tid>/stat shows it (comm "CPU 0/TCG"), utime 80, stime 10, guest 0.
const VCPU_STAT = '13615 (CPU 0/TCG) S 1 13609 13609 0 -1 4194368 1153 0 0 0 80 10 0 0 20 0 4 0 763335 1363148800 52210 18446744073709551615 1 1 0 0 0 0 268444163 4096 17475 0 0 0 -1 0 0 0 0 0 0 0 0 0 0 0 0 0 0';

describe('parsing /proc and /sys', () => {
  it('reads utime, stime and guest time after the last parenthesis, whatever the thread name holds', () => {
    assert.deepEqual(parseTaskStat(VCPU_STAT), { utime: 80, stime: 10, guestTime: 0 });
    const odd = VCPU_STAT.replace('(CPU 0/TCG)', '(a) b (c) 1 2 3)');
    assert.deepEqual(parseTaskStat(odd), { utime: 80, stime: 10, guestTime: 0 });
    // Fields 3..52 after the name: utime is field 14, stime 15, guest_time 43.
    const fields = Array.from({ length: 50 }, (_, i) => (i === 11 ? '7' : i === 12 ? '3' : i === 40 ? '55' : '0'));
    const kvm = `9 (CPU 1/KVM) ${fields.join(' ')}`;
    assert.deepEqual(parseTaskStat(kvm), { utime: 7, stime: 3, guestTime: 55 });
    assert.equal(parseTaskStat('garbage'), undefined);
    assert.equal(parseTaskStat('1 (x) S 1'), undefined);
  });

  it('reads schedstat run and wait nanoseconds, and VmRSS in bytes', () => {
    assert.deepEqual(parseSchedstat('727348128 778049241 661\n'), { runNs: 727348128, waitNs: 778049241, timeslices: 661 });
    assert.equal(parseSchedstat(''), undefined);
    assert.equal(parseStatusRss('Name:\tqemu-system-x86\nVmPeak:\t 1400000 kB\nVmRSS:\t  208852 kB\nRssAnon:\t  1016 kB\n'), 208852 * 1024);
    assert.equal(parseStatusRss('Name:\tzombie\nState:\tZ (zombie)\n'), undefined);
  });

  it('finds the interface of a /dev/net/tun descriptor in its fdinfo', () => {
    assert.equal(parseTunIff('pos:\t100\nflags:\t0104002\nmnt_id:\t23\nino:\t103\niff:\tvmkobs0\n'), 'vmkobs0');
    assert.equal(parseTunIff('pos:\t0\nflags:\t02\n'), undefined);
  });
});

describe('parsing QMP replies', () => {
  it('query-cpus-fast gives each vCPU thread in index order; a reply without thread ids is a QmpError', () => {
    const reply = [
      { 'thread-id': 13616, props: { 'core-id': 1, 'thread-id': 0, 'socket-id': 0 }, 'qom-path': '/machine/unattached/device[2]', 'cpu-index': 1, target: 'x86_64' },
      { 'thread-id': 13615, props: { 'core-id': 0, 'thread-id': 0, 'socket-id': 0 }, 'qom-path': '/machine/unattached/device[0]', 'cpu-index': 0, target: 'x86_64' },
    ];
    assert.deepEqual(parseVcpuThreads(reply), [{ index: 0, tid: 13615 }, { index: 1, tid: 13616 }]);
    assert.throws(() => parseVcpuThreads([{ 'cpu-index': 0 }]), (e: unknown) => e instanceof VmkitError && e.code === 'QmpError' && /entry 0/.test(e.message));
    assert.throws(() => parseVcpuThreads({}), /did not return a list/);
  });

  it('query-blockstats gives each disk its definition id and the device counters (latency totals in seconds)', () => {
    const stats = (o: Record<string, number>) => ({ rd_operations: 0, wr_operations: 0, flush_operations: 0, rd_bytes: 0, wr_bytes: 0, rd_total_time_ns: 0, wr_total_time_ns: 0, flush_total_time_ns: 0, account_invalid: true, timed_stats: [], ...o });
    const reply = [
      { device: '', 'node-name': 'disk0-fmt', qdev: '/machine/peripheral/disk0/virtio-backend', stats: stats({ rd_operations: 12, rd_bytes: 49152, rd_total_time_ns: 1_500_000_000 }), parent: { 'node-name': 'disk0-file', stats: stats({ rd_operations: 99 }) } },
      { device: '', 'node-name': 'disk1-fmt', qdev: 'disk1', stats: stats({ wr_operations: 3, wr_bytes: 4096, wr_total_time_ns: 2_000_000, flush_operations: 2, flush_total_time_ns: 500 }) },
      { device: 'drive-ide0', qdev: '/machine/unattached/device[23]', stats: stats({}) },
      { device: '', 'node-name': 'cd-fmt', stats: stats({}) },
      { device: '', qdev: '/machine/peripheral-anon/device[1]', stats: stats({}) },
      { device: 'nostats' },
    ];
    const disks = parseBlockstats(reply);
    assert.deepEqual(disks.map((d) => d.id), ['disk0', 'disk1', 'drive-ide0', 'cd', '/machine/peripheral-anon/device[1]']);
    assert.deepEqual(disks[0], { id: 'disk0', readOps: 12, writeOps: 0, flushOps: 0, readBytes: 49152, writeBytes: 0, readSeconds: 1.5, writeSeconds: 0, flushSeconds: 0 });
    assert.equal(disks[1]?.writeSeconds, 0.002);
    assert.equal(disks[1]?.flushOps, 2);
    assert.equal(blockEntryId({}), undefined);
    assert.throws(() => parseBlockstats(undefined), /query-blockstats did not return a list/);
  });

  it('query-balloon gives the actual size; anything else is no balloon', () => {
    assert.equal(parseBalloon({ actual: 268435456 }), 268435456);
    assert.equal(parseBalloon(undefined), undefined);
  });
});

describe('which tap carries each NIC', () => {
  const nics: NicSpec[] = [
    { kind: 'user', id: 'net0', model: 'virtio', forwards: [] },
    { kind: 'bridge', id: 'net1', model: 'virtio', bridge: 'br0' },
    { kind: 'tap', id: 'net2', model: 'virtio', ifname: 'mytap' },
    { kind: 'network', id: 'net3', model: 'e1000', network: 'default' },
    { kind: 'bridge', id: 'net4', model: 'virtio', bridge: 'br1' },
  ] as unknown as NicSpec[];

  it('named taps by name; helper taps in creation order (interface index), checked against their bridge', () => {
    const taps = [
      { name: 'tap7', ifindex: 40, master: 'virbr0' },
      { name: 'mytap', ifindex: 12 },
      { name: 'tap6', ifindex: 39, master: 'br0' },
      { name: 'tap8', ifindex: 41, master: 'br1' },
    ].sort((a, b) => a.ifindex - b.ifindex);
    assert.deepEqual(mapNics(nics, taps), [
      { id: 'net0', kind: 'user', unavailable: 'user-mode networking (slirp) keeps no counters QEMU reports' },
      { id: 'net1', kind: 'bridge', hostIf: 'tap6' },
      { id: 'net2', kind: 'tap', hostIf: 'mytap' },
      { id: 'net3', kind: 'network', hostIf: 'tap7' },
      { id: 'net4', kind: 'bridge', hostIf: 'tap8' },
    ]);
  });

  it('says so when a bridge NIC has no tap, or the next tap is a port of another bridge', () => {
    const out = mapNics(nics, [{ name: 'tapX', ifindex: 3, master: 'br9' }]);
    assert.match((out[1] as { unavailable: string }).unavailable, /tap tapX is a port of br9, not br0/);
    assert.equal((out[4] as { unavailable: string }).unavailable, 'QEMU holds no tap for it');
  });
});

describe('rates between two samples', () => {
  const sample = (at: number, cpu: number, vcpu: number, read: number, rx: number, pid = 7): DomainStats => ({
    name: 'd',
    uuid: 'u',
    state: 'running',
    pid,
    sampledAtMs: at,
    cpu: { userSeconds: cpu, systemSeconds: 0 },
    vcpus: [{ index: 0, tid: 8, seconds: vcpu, userSeconds: vcpu, systemSeconds: 0, waitSeconds: vcpu / 10 }],
    memory: { definedBytes: 1, rssBytes: 1 },
    disks: [{ id: 'disk0', readOps: read / 512, writeOps: 0, flushOps: 0, readBytes: read, writeBytes: 0, readSeconds: 0, writeSeconds: 0, flushSeconds: 0 }],
    nics: [{ id: 'net0', kind: 'tap', hostIf: 't', counters: { rxBytes: rx, rxPackets: 0, rxErrors: 0, rxDrops: 0, txBytes: 0, txPackets: 0, txErrors: 0, txDrops: 0 } }, { id: 'net1', kind: 'user', unavailable: 'x' }],
  });

  it('gives CPU in percent of one host CPU and bytes per second; nothing across two runs', () => {
    const r = ratesBetween(sample(1000, 1, 0.5, 0, 100), sample(3000, 2.5, 1.5, 4096, 300));
    assert.ok(r !== undefined);
    assert.equal(r.cpuPercent, 75);
    assert.deepEqual(r.vcpuPercent, [50]);
    assert.deepEqual(r.vcpuWaitPercent, [5]);
    assert.equal(r.disks[0]?.readBytesPerSec, 2048);
    assert.equal(r.disks[0]?.readOpsPerSec, 4);
    assert.deepEqual(r.nics, [{ id: 'net0', rxBytesPerSec: 100, txBytesPerSec: 0 }]);
    assert.equal(ratesBetween(sample(1000, 1, 1, 0, 0), sample(2000, 2, 2, 0, 0, 8)), undefined);
    assert.equal(ratesBetween(sample(1000, 1, 1, 0, 0), sample(1000, 2, 2, 0, 0)), undefined);
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(100), '100 B');
    assert.equal(formatBytes(300 * 1024 * 1024), '300 MiB');
  });
});
