/**
 * NIC counters of a real QEMU (paused: no guest needed) on a tap this test makes: found through QEMU's own
 * /dev/net/tun descriptor, read from /sys, reported from the guest's side (the host's transmit is the
 * guest's receive). Embedded, as root: QEMU runs as root there and may open /dev/net/tun.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEmbedded, type Connection } from '../../src/index.js';
import { readTunInterfaces } from '../../src/observe/host-reads.js';
import { pausedYaml } from '../driver/fixtures.js';
import { waitUntil } from '../helpers/cli.js';

const TAP = `vmko${process.pid % 100000}`;

async function sysCounters(ifname: string): Promise<{ rx_bytes: number; rx_packets: number; tx_bytes: number; tx_packets: number }> {
  const read = async (f: string): Promise<number> => Number(await readFile(`/sys/class/net/${ifname}/statistics/${f}`, 'utf8'));
  return { rx_bytes: await read('rx_bytes'), rx_packets: await read('rx_packets'), tx_bytes: await read('tx_bytes'), tx_packets: await read('tx_packets') };
}

describe('tap NIC counters (real QEMU, paused)', () => {
  let base: string;
  let conn: Connection;
  before(async () => {
    assert.equal(process.getuid?.(), 0, 'this test creates a tap interface: run it as root (as scripts/test.sh does)');
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-tap-'));
    execFileSync('ip', ['tuntap', 'add', 'dev', TAP, 'mode', 'tap']);
    execFileSync('ip', ['link', 'set', TAP, 'up']);
    conn = await openEmbedded({ root: join(base, 'root') });
  });
  after(async () => {
    await conn?.close();
    await rm(base, { recursive: true, force: true });
    try {
      execFileSync('ip', ['link', 'del', TAP], { stdio: 'ignore' });
    } catch {
      // not created
    }
  });

  it('finds the tap among QEMU\'s descriptors and reports its counters as the guest sees them', { timeout: 60_000 }, async () => {
    const yaml = `${pausedYaml('tapper')}\nnics:\n  - { type: user, model: virtio }\n  - { type: tap, ifname: ${TAP}, model: virtio }\n`;
    const d = await conn.define({ text: yaml });
    await d.start({ paused: true });
    const pid = d.pid;
    assert.ok(pid !== undefined);
    const taps = await readTunInterfaces(pid);
    const ifindex = Number(await readFile(`/sys/class/net/${TAP}/ifindex`, 'utf8'));
    assert.deepEqual(taps, [{ name: TAP, ifindex }]);
    // The host's own IPv6 traffic (router solicitation, MLD) goes out the tap once QEMU holds it open.
    assert.ok(await waitUntil(async () => (await sysCounters(TAP)).tx_packets > 0, 20_000), `no packet went out ${TAP} (is IPv6 disabled on this host?)`);
    const b = await sysCounters(TAP);
    const s = await d.stats();
    const a = await sysCounters(TAP);
    const [user, tap] = s.nics;
    assert.equal(user?.counters, undefined);
    assert.match(user?.unavailable ?? '', /user-mode networking/);
    assert.equal(tap?.hostIf, TAP);
    const c = tap?.counters;
    assert.ok(c !== undefined);
    assert.ok(c.rxPackets > 0 && c.rxPackets >= b.tx_packets && c.rxPackets <= a.tx_packets, `guest rx ${c.rxPackets}: host tx from ${b.tx_packets} to ${a.tx_packets}`);
    assert.ok(c.rxBytes >= b.tx_bytes && c.rxBytes <= a.tx_bytes);
    assert.ok(c.txPackets >= b.rx_packets && c.txPackets <= a.rx_packets);
    assert.ok(c.txBytes >= b.rx_bytes && c.txBytes <= a.rx_bytes);
    await d.destroy();
    // A stopped domain has no statistics.
    await assert.rejects(d.stats(), /Cannot read the statistics of domain 'tapper': it is not running/);
  });
});
