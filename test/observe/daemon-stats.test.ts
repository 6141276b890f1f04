/**
 * Statistics, metrics and the console ring buffer over a real `vmkit daemon` with the tiny guest booting
 * under TCG: a raw virtio disk and a user NIC (no counters). Tap counters: tap-stats.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RemoteConnection, type RemoteDomain } from '../../src/api/client.js';
import { VmkitError } from '../../src/errors.js';
import type { DomainStats } from '../../src/observe/types.js';
import { daemonBase, spawnDaemon, type DaemonProc } from '../api/daemon-process.js';
import { killQemusUnder } from '../driver/fixtures.js';
import { runCli, waitUntil } from '../helpers/cli.js';
import { ACCEL_NOTE, tinyYaml } from '../helpers/guest.js';
import { promtoolCheck, seriesValue } from './promtool.js';


function getText(socket: string, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe(`statistics, metrics and the console ring buffer over a daemon (${ACCEL_NOTE})`, () => {
  let base: string;
  let socket: string;
  let daemon: DaemonProc;
  let conn: RemoteConnection;
  let d: RemoteDomain;
  let text = '';
  before(async () => {
    base = await daemonBase('vmkit-test-observe-');
    socket = join(base, 'd.sock');
    const disk = join(base, 'disk.raw');
    execFileSync('qemu-img', ['create', '-q', '-f', 'raw', disk, '8M']);
    if (process.getuid?.() === 0) execFileSync('chown', ['vmkit-qemu:', disk]); // QEMU runs as vmkit-qemu under a root daemon
    daemon = await spawnDaemon(socket, join(base, 'root'));
    conn = await RemoteConnection.open(socket);
    const extra = [
      'disks:',
      `  - { path: ${JSON.stringify(disk)}, format: raw, bus: virtio }`,
      'nics:',
      '  - { type: user, model: virtio }',
      'balloon: true',
    ].join('\n');
    d = await conn.define({ text: tinyYaml({ name: 'obs1', action: 'wait', extra }) });
    d.on('console', (c) => (text += c.toString()));
    await d.start({ paused: true });
    await d.openConsole();
    await d.resume();
  });
  after(async () => {
    await conn?.close();
    await daemon?.kill9();
    await killQemusUnder(join(base, 'root'));
    await rm(base, { recursive: true, force: true });
  });

  it('stats show vCPU time growing, QEMU\'s RSS and balloon, the disk\'s reads, and no counters for user networking', { timeout: 90_000 }, async () => {
    assert.ok(await waitUntil(async () => text.includes('VMKIT-GUEST-READY'), 60_000), `guest ready; console so far:\n${text}`);
    const first = await d.stats();
    await new Promise((r) => setTimeout(r, 1500));
    const second: DomainStats = await d.stats();

    assert.equal(second.name, 'obs1');
    assert.equal(second.pid, d.pid);
    assert.equal(second.vcpus.length, 1);
    const [v1, v2] = [first.vcpus[0], second.vcpus[0]];
    assert.ok(v1 !== undefined && v2 !== undefined);
    assert.equal(v1.tid, v2.tid);
    assert.ok(v1.seconds > 0, `vCPU time after boot: ${v1.seconds}`);
    assert.ok(v2.seconds >= v1.seconds, `vCPU time only grows: ${v1.seconds} -> ${v2.seconds}`);
    assert.ok(v2.waitSeconds !== undefined && v2.waitSeconds >= 0);
    // The vCPU thread's time read independently: /proc/<pid>/task/<tid>/stat, in clock ticks (USER_HZ 100).
    const stat = await readFile(`/proc/${second.pid}/task/${v2.tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    assert.ok(ticks / 100 >= v2.seconds - 0.011, `stat ${ticks} ticks vs ${v2.seconds} s`);
    assert.ok(second.cpu.userSeconds + second.cpu.systemSeconds >= v2.seconds - 0.02, 'the process has at least its vCPU\'s time');
    const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${second.pid}/status`, 'utf8'))?.[1]) * 1024;
    assert.ok(second.memory.rssBytes > 16 * 1024 * 1024 && Math.abs(second.memory.rssBytes - rss) < 64 * 1024 * 1024, `RSS ${second.memory.rssBytes} vs ${rss}`);
    assert.equal(second.memory.definedBytes, 256 * 1024 * 1024);
    assert.equal(second.memory.balloonBytes, 256 * 1024 * 1024);
    assert.deepEqual(second.disks.map((x) => x.id), ['disk0']);
    // The guest's virtio_blk read the partition table.
    assert.ok(await waitUntil(async () => ((await d.stats()).disks[0]?.readOps ?? 0) > 0, 30_000), 'the guest read its disk');
    const diskNow = (await d.stats()).disks[0];
    assert.ok(diskNow !== undefined && diskNow.readBytes >= 512 * diskNow.readOps && diskNow.readSeconds > 0);
    assert.deepEqual(second.nics, [{ id: 'net0', kind: 'user', unavailable: 'user-mode networking (slirp) keeps no counters QEMU reports' }]);
    const all = await conn.allStats();
    assert.deepEqual(all.map((s) => s.name), ['obs1']);
  });

  it('vmkit stats prints a sample (and JSON), vmkit top --once lists the domain with its rates; a shut-off domain has no statistics', { timeout: 60_000 }, async () => {
    const env = { VMKIT_URI: `unix://${socket}` };
    const human = await runCli(['stats', 'obs1'], { env }).done;
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^Domain 'obs1' \(running, pid \d+\)$/m);
    assert.match(human.stdout, /^vCPU 0 +\d+\.\d\d s \(user/m);
    assert.match(human.stdout, /^Disk disk0 +read \d+/m);
    assert.match(human.stdout, /^NIC net0 +user: counters not available: user-mode networking/m);
    const json = await runCli(['stats', 'obs1', '--json'], { env }).done;
    assert.equal(json.code, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as DomainStats).vcpus.length, 1);
    const watch = await runCli(['stats', 'obs1', '--watch', '0.3', '--json'], { env, killAfterMs: 1800 }).done;
    const lines = watch.stdout.trim().split('\n').map((l) => JSON.parse(l) as DomainStats);
    assert.ok(lines.length >= 2, `--watch printed a sample per interval:\n${watch.stdout}`);
    assert.ok((lines.at(-1)?.sampledAtMs ?? 0) > (lines[0]?.sampledAtMs ?? 0));
    const top = await runCli(['top', '--once', '--interval', '0.5'], { env }).done;
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /NAME +STATE +CPU% +VCPUS +RSS/);
    assert.match(top.stdout, /^obs1 +running +\d+\.\d +1 +\d/m);
    await conn.define({ text: tinyYaml({ name: 'obsoff' }) });
    const off = await runCli(['stats', 'obsoff'], { env }).done;
    assert.equal(off.code, 1);
    assert.match(off.stderr, /Cannot read the statistics of domain 'obsoff': it is not running/);
    await assert.rejects(conn.lookup('obsoff').stats(), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidState');
    const bad = await runCli(['stats', 'obs1', '--watch', 'soon'], { env }).done;
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--watch must be a number of seconds/);
    await conn.undefine('obsoff');
  });

  it('GET /metrics on the socket passes promtool check metrics and carries the domain\'s series', { timeout: 60_000 }, async () => {
    const r = await getText(socket, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    const check = await promtoolCheck(r.body);
    assert.equal(check.code, 0, `promtool check metrics:\n${check.output}`);
    assert.equal(check.output.trim(), '');
    assert.equal(seriesValue(r.body, 'vmkit_domain_state{domain="obs1",state="running"}'), 1);
    assert.equal(seriesValue(r.body, 'vmkit_domain_state{domain="obs1",state="shutoff"}'), 0);
    assert.ok((seriesValue(r.body, 'vmkit_domain_vcpu_seconds_total{domain="obs1",vcpu="0"}') ?? 0) > 0);
    assert.ok((seriesValue(r.body, 'vmkit_domain_block_read_requests_total{domain="obs1",disk="disk0"}') ?? 0) > 0);
    assert.equal(seriesValue(r.body, 'vmkit_domain_net_receive_packets_total{domain="obs1",nic="net0"}'), undefined, 'no invented counters for user networking');
    assert.ok((seriesValue(r.body, 'vmkit_domain_memory_rss_bytes{domain="obs1"}') ?? 0) > 0);
    // Metrics (and the timing of requests) start with the first /metrics of a daemon without --metrics/--web.
    assert.doesNotMatch(r.body, /route="\/v1\/domains\/\{id\}\/stats"/);
    assert.equal((await getText(socket, '/v1/domains/obs1/stats')).status, 200);
    const again = (await getText(socket, '/metrics')).body;
    assert.equal(seriesValue(again, 'vmkit_api_request_duration_seconds_count{method="GET",route="/v1/domains/{id}/stats",code="200"}'), 1);
    assert.match(r.body, /^vmkit_daemon_event_loop_delay_seconds_count \d+$/m);
    assert.match(r.body, /^# TYPE vmkit_domain_start_duration_seconds histogram$/m);
    const bad = await getText(socket, '/v1/domains/nope/stats');
    assert.equal(bad.status, 404);
    assert.match(bad.body, /"code":"NotFound"/);
  });

  it('a console attached long after boot still shows the banner: the daemon replays the last 256 KiB', { timeout: 60_000 }, async () => {
    assert.match(text, /VMKIT-GUEST-BANNER/);
    const cli = runCli(['console', 'obs1', '--connect', `unix://${socket}`]);
    await cli.waitFor('VMKIT-GUEST-BANNER', 20_000);
    await cli.waitFor('VMKIT-GUEST-READY', 5000);
    const stop = await d.shutdown({ timeoutMs: 30_000 });
    assert.equal(stop.reason, 'shutdown');
    const res = await cli.done;
    assert.equal(res.code, 0);
    assert.ok(res.stdout.indexOf('VMKIT-GUEST-BANNER') < res.stdout.indexOf('VMKIT-GUEST-POWERBUTTON'), 'the kept output first, then what followed');
    assert.equal(res.stdout.split('VMKIT-GUEST-BANNER').length, 2, 'the banner once');
  });
});
