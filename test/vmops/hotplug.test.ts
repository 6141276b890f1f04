import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { openEmbedded, VmkitError, type Connection, type LifecycleEvent } from '../../src/index.js';
import type { Domain } from '../../src/driver/domain.js';
import { attachDisk, attachNic, detachDisk, detachNic, setVcpus } from '../../src/vmops/hotplug.js';
import { HOTPLUG_ROOT_PORTS } from '../../src/vmops/live.js';
import { ACCEL_NOTE, tinyYaml } from '../helpers/guest.js';
import { countsContinue, watchConsole, type ConsoleWatch } from './guest-console.js';

/** Asks the guest (count action) for its block devices until `want` holds, and returns the last list. */
async function blocksUntil(d: Domain, c: ConsoleWatch, want: (names: string[]) => boolean, ms = 60_000): Promise<string[]> {
  const end = Date.now() + ms;
  for (;;) {
    const from = c.text().length;
    d.writeConsole('blocks\n');
    const m = await c.waitFor(/VMKIT-REPORT blocks=([^\r\n]*)\r?\n/, 10_000, from);
    const names = (m[1] ?? '').split(',').filter((x) => x !== '');
    if (want(names)) return names;
    if (Date.now() > end) assert.fail(`the guest's block devices stayed ${JSON.stringify(names)}`);
    await delay(300);
  }
}

function affinityOf(pid: number, tid: number): string {
  const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
  return /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1] ?? '';
}

describe(`hotplug into a running guest (real QEMU; ${ACCEL_NOTE})`, () => {
  let base: string;
  let conn: Connection;
  let d: Domain;
  let c: ConsoleWatch;
  const events: LifecycleEvent[] = [];

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-hotplug-'));
    conn = await openEmbedded({ root: join(base, 'root') });
    conn.on('event', (e) => events.push(e));
    // vCPU 1 (hot-plugged later) is pinned to host CPU 0 by the definition.
    const extra = 'tuning:\n  pinning:\n    vcpus: { 1: "0" }';
    d = await conn.define({ text: tinyYaml({ name: 'hot', action: 'count', extra }).replace('  vcpus: 1', '  vcpus: 1\n  max_vcpus: 2') });
    c = watchConsole(d);
    await d.start();
    await c.waitCount(3);
  });
  after(async () => {
    await conn?.close();
    await rm(base, { recursive: true, force: true });
  });

  it(`show reports the ${HOTPLUG_ROOT_PORTS} PCIe root ports reserved for hotplug`, async () => {
    assert.deepEqual((await d.info()).hotplug, { rootPorts: HOTPLUG_ROOT_PORTS, free: HOTPLUG_ROOT_PORTS });
    const argv = d.process?.argv.join(' ') ?? '';
    assert.equal(argv.match(/pcie-root-port/g)?.length, HOTPLUG_ROOT_PORTS);
  });

  it('a hot-added disk appears in the guest, and the counter never restarts', { timeout: 120_000 }, async () => {
    const img = join(base, 'extra.img');
    await writeFile(img, Buffer.alloc(4 * 1024 * 1024));
    assert.deepEqual(await blocksUntil(d, c, () => true), [], 'no disk before');
    const r = await attachDisk(d, { id: 'extra', path: img, format: 'raw', serial: 'HOT1' });
    assert.equal(r.device, 'extra');
    assert.deepEqual(await blocksUntil(d, c, (n) => n.includes('vda')), ['vda']);
    const info = await d.info();
    assert.deepEqual(info.hotplug, { rootPorts: HOTPLUG_ROOT_PORTS, free: HOTPLUG_ROOT_PORTS - 1 });
    assert.ok(info.disks.some((x) => x.id === 'extra' && x.path === img));
    assert.ok(events.some((e) => e.type === 'device' && e.reason === 'added' && e.device === 'extra'));
    assert.ok(countsContinue(c.counts()), `counts went back: ${c.counts().join(',')}; console tail:\n${c.text().slice(-1500)}`);
  });

  it('bad requests fail with InvalidArgument naming the field and change nothing', async () => {
    const before = await d.info();
    await assert.rejects(attachDisk(d, { id: 'extra', path: '/tmp/x.img', format: 'raw' }), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument' && /disk\.id/.test(e.message) && /already has/.test(e.message));
    await assert.rejects(attachDisk(d, { id: 'rel', path: 'x.img', format: 'raw' }), (e: unknown) => e instanceof VmkitError && /disk\.path/.test(e.message));
    await assert.rejects(attachDisk(d, { id: 'nofmt', path: '/tmp/x.img', format: 'guess' as 'raw' }), (e: unknown) => e instanceof VmkitError && /disk\.format/.test(e.message));
    await assert.rejects(detachDisk(d, 'nosuch'), (e: unknown) => e instanceof VmkitError && e.code === 'NotFound' && /extra/.test(e.message));
    await assert.rejects(setVcpus(d, 3), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument' && /1 to 2/.test(e.message));
    const now = await d.info();
    assert.deepEqual(now.disks, before.disks);
    assert.deepEqual(now.hotplug, before.hotplug);
  });

  it('an unplug the guest does not answer in time fails with Timeout; the disk goes once the guest lets go', { timeout: 120_000 }, async () => {
    // A paused guest cannot answer the unplug request (the attention button) until it runs again.
    await d.suspend();
    await assert.rejects(detachDisk(d, 'extra', { timeoutMs: 1000 }), (e: unknown) => e instanceof VmkitError && e.code === 'Timeout' && /did not release disk 'extra' within 1000 ms/.test(e.message));
    assert.ok((await d.info()).disks.some((x) => x.id === 'extra'), 'still attached right after the time-out');
    assert.equal(d.state(), 'paused');
    await d.resume();
    const deadline = Date.now() + 60_000;
    while (!events.some((e) => e.type === 'device' && e.reason === 'removed' && e.device === 'extra')) {
      if (Date.now() > deadline) assert.fail('the disk was never removed');
      await delay(200);
    }
    assert.deepEqual(await blocksUntil(d, c, (n) => !n.includes('vda')), []);
    assert.deepEqual((await d.info()).hotplug, { rootPorts: HOTPLUG_ROOT_PORTS, free: HOTPLUG_ROOT_PORTS });
  });

  it('a NIC is hot-added and unplugged (netdev_add + device_add, device_del + DEVICE_DELETED)', { timeout: 120_000 }, async () => {
    await attachNic(d, { id: 'net9', kind: 'user', mac: '52:54:00:aa:bb:09' });
    assert.ok((await d.info()).nics.some((n) => n.id === 'net9' && n.mac === '52:54:00:aa:bb:09'));
    const qom = await d.process?.qmp?.execute<{ name: string }[]>('qom-list', { path: '/machine/peripheral' });
    assert.ok(qom?.some((p) => p.name === 'net9'), 'QEMU has the device');
    await detachNic(d, 'net9', { timeoutMs: 60_000 });
    assert.ok(!(await d.info()).nics.some((n) => n.id === 'net9'));
  });

  it('setvcpus hot-adds a vCPU whose thread has the definition\'s pin before the guest onlines it', { timeout: 120_000 }, async () => {
    const r = await setVcpus(d, 2);
    assert.equal(r.vcpus, 2);
    const qmp = d.process?.qmp;
    const cpus = (await qmp?.execute<{ 'cpu-index': number; 'thread-id': number }[]>('query-cpus-fast')) ?? [];
    assert.equal(cpus.length, 2);
    const added = cpus.find((x) => x['cpu-index'] === 1);
    assert.ok(added !== undefined);
    assert.equal(affinityOf(d.pid ?? 0, added['thread-id']), '0');
    // The guest sees the new vCPU once it has handled the ACPI notification; until then it reports 0.
    const end = Date.now() + 60_000;
    for (;;) {
      const from = c.text().length;
      d.writeConsole('cpus\n');
      const m = await c.waitFor(/VMKIT-REPORT online=(\S+)\r?\n/, 30_000, from);
      if (m[1] === '0-1') break;
      if (Date.now() > end) assert.fail(`the guest onlined ${m[1]}`);
      await delay(500);
    }
    assert.equal((await d.info()).vcpus, 2);
    assert.ok(countsContinue(c.counts()), `counts went back: ${c.counts().join(',')}; console tail:\n${c.text().slice(-1500)}`);
    assert.equal(d.state(), 'running');
  });

  it('--persistent changes the stored definition too; without it only the run changes', { timeout: 60_000 }, async () => {
    const img = join(base, 'keep.img');
    await writeFile(img, Buffer.alloc(1024 * 1024));
    await attachDisk(d, { id: 'keep', path: img, format: 'raw' }, { persistent: true });
    const def = await d.definition();
    assert.match(def.text, /keep\.img/);
    assert.ok(d.spec.disks.some((x) => x.path === img && x.address === undefined), 'stored without the run\'s port');
    assert.equal(d.spec.disks.length, 1, 'the disk added without --persistent is not in the definition');
    assert.equal(d.spec.cpu.vcpus, 1, 'setvcpus without --persistent left the definition alone');
    await d.destroy();
    assert.deepEqual(await readdir(join(base, 'root', 'run')), []);
    assert.ok((await d.info()).disks.some((x) => x.path === img), 'kept after the run');
  });
});

describe(`hotplug ports a root reserves (real QEMU, paused; ${ACCEL_NOTE})`, () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-hotports-'));
  });
  after(async () => rm(base, { recursive: true, force: true }));

  it('a root opened with hotplugPorts: 1 reserves one; with 0 none, and attach-disk says why', { timeout: 60_000 }, async () => {
    for (const ports of [1, 0]) {
      const conn = await openEmbedded({ root: join(base, `root-${ports}`), hotplugPorts: ports });
      try {
        const d = await conn.define({ text: tinyYaml({ name: `p${ports}`, action: 'wait' }) });
        await d.start({ paused: true });
        const argv = d.process?.argv.join(' ') ?? '';
        assert.equal(argv.match(/pcie-root-port/g)?.length ?? 0, ports, argv);
        if (ports > 0) assert.deepEqual((await d.info()).hotplug, { rootPorts: ports, free: ports });
        else {
          assert.equal((await d.info()).hotplug, undefined);
          const img = join(base, 'x.img');
          await writeFile(img, Buffer.alloc(1024 * 1024));
          await assert.rejects(attachDisk(d, { id: 'extra', path: img, format: 'raw' }), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidState' && /reserves no PCIe root ports for hotplug \(opened with hotplugPorts: 0\)/.test(e.message));
        }
        await d.destroy();
      } finally {
        await conn.close();
      }
    }
  });

  it('refuses a hotplugPorts that is not a whole number from 0 to 16, creating nothing', async () => {
    for (const bad of [-1, 1.5, 17, Number.NaN]) {
      const root = join(base, `bad-${String(bad)}`);
      await assert.rejects(openEmbedded({ root, hotplugPorts: bad }), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument' && /hotplugPorts must be a whole number from 0 to 16/.test(e.message));
      await assert.rejects(readdir(root), /ENOENT/, 'no root was created');
    }
  });
});
