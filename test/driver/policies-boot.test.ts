import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEmbedded, VmkitError, type Domain } from '../../src/index.js';
import { ACCEL_NOTE, tinyGuest, tinyYaml } from '../helpers/guest.js';
import { killQemusUnder } from './fixtures.js';

function consoleWatch(d: Domain): { waitFor: (s: string, after?: number, ms?: number) => Promise<number>; length: () => number } {
  let text = '';
  d.on('console', (c) => {
    text += c.toString();
  });
  return {
    length: () => text.length,
    // Resolves with the index just past `s`, searching from `after`.
    waitFor: async (s, from = 0, ms = 60_000) => {
      const end = Date.now() + ms;
      for (;;) {
        const i = text.indexOf(s, from);
        if (i >= 0) return i + s.length;
        if (Date.now() > end) throw new Error(`timed out waiting for ${s}; console:\n${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

describe(`lifecycle policies with a booting guest (${ACCEL_NOTE})`, () => {
  let base: string;
  before(async () => {
    tinyGuest();
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-policy-'));
  });
  after(async () => {
    for (const d of await readdir(base)) await killQemusUnder(join(base, d));
    await rm(base, { recursive: true, force: true });
  });

  it('onPoweroff restart: a guest that powers itself off is started again', { timeout: 120_000 }, async () => {
    const conn = await openEmbedded({ root: join(base, 'restart') });
    try {
      const yaml = tinyYaml({ name: 'again', cmdline: 'console=ttyS0 quiet vmkit.action=sleep vmkit.sleep=1' });
      const d = await conn.define({ text: yaml }, { policies: { onPoweroff: 'restart' } });
      const starts: number[] = [];
      d.on('started', ({ pid }) => starts.push(pid));
      const firstStop = new Promise<{ reason: string; requested: boolean }>((r) => d.once('stopped', r));
      await d.start();
      const stop = await firstStop;
      assert.equal(stop.reason, 'shutdown');
      assert.equal(stop.requested, false);
      for (let i = 0; i < 200 && starts.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(starts.length, 2, 'started a second time');
      assert.notEqual(starts[0], starts[1]);
      await d.destroy();
      assert.equal(d.state(), 'shutoff');
    } finally {
      await conn.close();
    }
  });

  it('onCrash preserve: a guest panic keeps QEMU, paused, in state crashed until destroyed', { timeout: 120_000 }, async () => {
    const conn = await openEmbedded({ root: join(base, 'crash') });
    try {
      const yaml = tinyYaml({ name: 'panicky', action: 'crash', extra: 'qemu_args: ["-device", "pvpanic"]' });
      const d = await conn.define({ text: yaml }, { policies: { onCrash: 'preserve' } });
      const crashed = new Promise<{ reason: string }>((r) => d.once('crashed', r));
      await d.start();
      assert.equal((await crashed).reason, 'guest-panic');
      assert.equal(d.state(), 'crashed');
      assert.ok(d.pid !== undefined, 'QEMU is kept');
      assert.equal((await d.info()).pausedReason, 'panic');
      await assert.rejects(d.resume(), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidState' && /crashed/.test(e.message));
      const stop = await d.destroy();
      assert.equal(stop.reason, 'destroyed');
    } finally {
      await conn.close();
    }
  });

  it('onPoweroff preserve: shutdown() leaves QEMU paused; resume is refused; reboot boots the guest again', { timeout: 120_000 }, async () => {
    const conn = await openEmbedded({ root: join(base, 'keep') });
    try {
      const d = await conn.define({ text: tinyYaml({ name: 'keeper', action: 'wait' }) }, { policies: { onPoweroff: 'preserve' } });
      const con = consoleWatch(d);
      await d.start();
      const ready = await con.waitFor('VMKIT-GUEST-READY');
      const stop = await d.shutdown({ timeoutMs: 30_000 });
      assert.match(stop.message, /kept, paused/);
      assert.equal(d.state(), 'paused');
      assert.equal((await d.info()).pausedReason, 'shutdown');
      assert.ok(d.pid !== undefined);
      await assert.rejects(d.resume(), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidState' && /powered off/.test(e.message));
      await d.reboot();
      await con.waitFor('VMKIT-GUEST-BANNER', ready);
      assert.equal(d.state(), 'running');
      await d.destroy();
    } finally {
      await conn.close();
    }
  });
});
