import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RemoteConnection, VmkitError, type LifecycleEvent } from '../../src/index.js';
import { vmops } from '../../src/vmops/api.js';
import { isDead } from '../helpers/cli.js';
import { runCli } from '../helpers/cli.js';
import { ACCEL_NOTE, tinyGuest, tinyYaml } from '../helpers/guest.js';
import { killQemusUnder, qemusUnder } from '../driver/fixtures.js';
import { daemonBase, spawnDaemon, type DaemonProc } from '../api/daemon-process.js';
import { countsContinue, watchConsole } from './guest-console.js';

describe(`live migration between two daemons on one host (real QEMU; ${ACCEL_NOTE})`, () => {
  let base: string;
  let a: DaemonProc;
  let b: DaemonProc;
  before(async () => {
    tinyGuest();
    base = await daemonBase('vmkit-test-migrate-');
    [a, b] = await Promise.all([spawnDaemon(join(base, 'a.sock'), join(base, 'a')), spawnDaemon(join(base, 'b.sock'), join(base, 'b'))]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await killQemusUnder(base);
    await rm(base, { recursive: true, force: true });
  });

  it('a counting guest moves to the other daemon and keeps counting; the source ends "migrated"; progress goes out as events on both', { timeout: 180_000 }, async () => {
    const ca = await RemoteConnection.open(a.socket);
    const cb = await RemoteConnection.open(b.socket);
    try {
      const evA: LifecycleEvent[] = [];
      const evB: LifecycleEvent[] = [];
      ca.on('event', (e) => evA.push(e));
      cb.on('event', (e) => evB.push(e));
      const src = await ca.define({ text: tinyYaml({ name: 'mig', action: 'count' }) });
      await src.start({ paused: true });
      await src.openConsole();
      const ws = watchConsole(src);
      await src.resume();
      await ws.waitCount(10);
      const pid = src.pid ?? 0;
      // The CLI, as a user would run it.
      const cli = await runCli(['migrate', 'mig', '--to', `unix://${b.socket}`, '--connect', `unix://${a.socket}`, '--json']).done;
      assert.equal(cli.code, 0, cli.stderr);
      const result = JSON.parse(cli.stdout) as { progress: { status: string; downtimeMs?: number; transferredBytes?: number } };
      assert.equal(result.progress.status, 'completed');
      assert.ok((result.progress.downtimeMs ?? -1) >= 0, 'QEMU reported the downtime');
      const last = ws.count();
      assert.ok(await isDead(pid), 'the source QEMU quit');
      await ca.refresh();
      const info = await src.info();
      assert.equal(info.state, 'shutoff');
      assert.equal(info.lastStop?.reason, 'migrated');
      assert.ok(evA.some((e) => e.type === 'stopped' && e.reason === 'migrated'));
      assert.ok(evA.some((e) => e.type === 'progress' && e.progress?.op === 'migrate' && e.progress.status === 'completed'));
      assert.ok(evB.some((e) => e.type === 'progress' && e.progress?.op === 'incoming'));
      assert.ok(evB.some((e) => e.type === 'started' && e.reason === 'migrated'));

      const dst = cb.lookup('mig');
      assert.equal(dst.state(), 'running');
      await dst.openConsole();
      const wd = watchConsole(dst);
      await wd.waitCount(last + 3);
      const after = wd.counts();
      assert.ok((after[0] ?? 0) > 1 && (after[0] ?? 0) <= last + 3, `the counter went on from ${last} (first count on the destination: ${after[0]})`);
      assert.ok(countsContinue(after));
      assert.ok(!wd.text().includes('VMKIT-GUEST-BANNER'), 'no reboot on the destination');
      await dst.destroy();
      await cb.undefine('mig');
      await ca.undefine('mig');
    } finally {
      await ca.close();
      await cb.close();
    }
  });

  it('a migration cancelled while it runs leaves the guest running on the source and nothing on the destination', { timeout: 180_000 }, async () => {
    const ca = await RemoteConnection.open(a.socket);
    const cb = await RemoteConnection.open(b.socket);
    try {
      const evB: LifecycleEvent[] = [];
      cb.on('event', (e) => evB.push(e));
      const src = await ca.define({ text: tinyYaml({ name: 'cxl', action: 'count' }) });
      await src.start({ paused: true });
      await src.openConsole();
      const ws = watchConsole(src);
      await src.resume();
      await ws.waitCount(5);
      const ops = await vmops(ca);
      const active = new Promise<void>((resolve) => ca.on('event', (e) => e.domain === 'cxl' && e.type === 'progress' && e.progress?.status === 'active' && resolve()));
      // 1 MiB/s: the guest's ~60 MiB of non-zero memory take about a minute.
      const run = ops.migrate('cxl', `unix://${b.socket}`, { bandwidthMiBs: 1 });
      run.catch(() => undefined);
      await active;
      await ops.cancelMigration('cxl');
      await assert.rejects(run, (e: unknown) => e instanceof VmkitError && e.code === 'Aborted' && /cancelled; it keeps running here/.test(e.message));
      assert.equal((await src.info()).state, 'running');
      const at = ws.count();
      await ws.waitCount(at + 3);
      // The destination's QEMU is gone, and so is the definition the migration brought there.
      const end = Date.now() + 30_000;
      while ((await cb.refresh()).some((x) => x.name === 'cxl') && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
      assert.ok(!(await cb.refresh()).some((x) => x.name === 'cxl'), 'the destination has no domain cxl left');
      assert.deepEqual(await qemusUnder(b.root), [], 'no QEMU left on the destination');
      assert.ok(evB.some((e) => e.type === 'stopped' && e.reason === 'failed' && /incoming migration failed/.test(e.message ?? '')), 'the destination said why');
      await assert.rejects(ops.cancelMigration('cxl'), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidState');
      await src.destroy();
      await ca.undefine('cxl');
    } finally {
      await ca.close();
      await cb.close();
    }
  });
});
