import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEmbedded, VmkitError, type Connection, type LifecycleEvent } from '../../src/index.js';
import type { Domain } from '../../src/driver/domain.js';
import { attachDisk } from '../../src/vmops/hotplug.js';
import { discardSaved, save } from '../../src/vmops/savestate.js';
import { isDead } from '../helpers/cli.js';
import { ACCEL_NOTE, tinyYaml } from '../helpers/guest.js';
import { countsContinue, watchConsole } from './guest-console.js';

describe(`save and restore (managedsave; real QEMU; ${ACCEL_NOTE})`, () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-save-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('a counting guest is saved to a file, survives a reopened root, and restored keeps counting from where it was', { timeout: 180_000 }, async () => {
    const root = join(base, 'root');
    let conn: Connection = await openEmbedded({ root });
    let d = (await conn.define({ text: tinyYaml({ name: 'sv', action: 'count' }) })) as Domain;
    try {
      const events: LifecycleEvent[] = [];
      conn.on('event', (e) => events.push(e));
      let c = watchConsole(d);
      await d.start();
      await c.waitCount(10);
      // A hot-plugged disk is part of the saved run: the restored QEMU must have it too.
      const img = join(base, 'hot.img');
      await writeFile(img, Buffer.alloc(1024 * 1024));
      await attachDisk(d, { id: 'hot', path: img, format: 'raw' });
      const pid = d.pid ?? 0;
      const r = await save(d);
      const before = c.count();
      c.stop();
      assert.equal(d.state(), 'saved');
      assert.ok(await isDead(pid), 'QEMU stopped');
      assert.ok(r.bytes > 1024 * 1024 && existsSync(r.file), `state file of ${r.bytes} bytes`);
      assert.equal(d.lastStop?.reason, 'saved');
      assert.ok(events.some((e) => e.type === 'progress' && e.progress?.op === 'save' && e.progress.status === 'completed'));
      assert.ok(events.some((e) => e.type === 'stopped' && e.reason === 'saved' && e.state === 'saved'));
      await assert.rejects(conn.undefine('sv'), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidState' && /saved/.test(e.message));

      await conn.close();
      conn = await openEmbedded({ root });
      d = conn.lookup('sv');
      assert.equal(d.state(), 'saved', 'the saved state is kept with the domain');
      c = watchConsole(d);
      await d.start();
      assert.equal(d.state(), 'running');
      await c.waitCount(before + 5);
      const after = c.counts();
      assert.ok((after[0] ?? 0) > 1, `the counter went on from ${before} (first count after restore: ${after[0]})`);
      assert.ok((after[0] ?? 0) <= before + 2 && countsContinue(after), `counts: ${after.slice(0, 10).join(',')}`);
      assert.ok(!c.text().includes('VMKIT-GUEST-BANNER'), 'the guest did not boot again');
      assert.ok((await d.info()).disks.some((x) => x.id === 'hot'), 'the hot-plugged disk came back');
      assert.ok(!existsSync(r.file), 'the state file is removed after the restore');
      assert.equal(d.saved, undefined);
      await d.destroy();
    } finally {
      await conn.close();
    }
  });

  it('a paused guest is restored paused; a saved state can be discarded; save needs a running domain', { timeout: 120_000 }, async () => {
    const conn = await openEmbedded({ root: join(base, 'p') });
    try {
      const d = (await conn.define({ text: tinyYaml({ name: 'ps', action: 'count' }) })) as Domain;
      await assert.rejects(save(d), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidState' && /shutoff/.test(e.message));
      const c = watchConsole(d);
      await d.start();
      await c.waitCount(3);
      await d.suspend();
      const r = await save(d);
      assert.equal(r.paused, true);
      await d.start();
      assert.equal(d.state(), 'paused');
      await d.resume();
      const at = c.count();
      await c.waitCount(at + 3);
      await save(d);
      assert.equal(d.state(), 'saved');
      await discardSaved(d);
      assert.equal(d.state(), 'shutoff');
      assert.deepEqual(await readdir(join(base, 'p', 'saved')), []);
      await d.start();
      await c.waitFor(/VMKIT-COUNT-START/, 60_000, c.text().lastIndexOf('VMKIT-COUNT') + 1);
      await d.destroy();
    } finally {
      await conn.close();
    }
  });
});
