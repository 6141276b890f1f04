import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEmbedded, VmkitError, type Connection, type ExitInfo } from '../../src/index.js';
import { isDead, waitUntil } from '../helpers/cli.js';
import { ACCEL_NOTE, tinyGuest, tinyYaml } from '../helpers/guest.js';

function consoleText(conn: Connection, name: string): { text: () => string; waitFor: (s: string, ms?: number) => Promise<void> } {
  let text = '';
  const waiters: [string, () => void][] = [];
  conn.lookup(name).on('console', (c) => {
    text += c.toString();
    for (const w of [...waiters]) if (text.includes(w[0])) { waiters.splice(waiters.indexOf(w), 1); w[1](); }
  });
  return {
    text: () => text,
    waitFor: (s, ms = 60_000) =>
      text.includes(s)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`timed out waiting for ${s}; console:\n${text}`)), ms);
            waiters.push([s, () => { clearTimeout(t); resolve(); }]);
          }),
  };
}

describe(`openEmbedded (real QEMU; ${ACCEL_NOTE})`, () => {
  let base: string;
  before(async () => {
    tinyGuest();
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-embedded-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('two independent roots in one process each run their own VM with events', { timeout: 90_000 }, async () => {
    const a = await openEmbedded({ root: join(base, 'a') });
    const b = await openEmbedded({ root: join(base, 'b') });
    try {
      // The same name in both roots: roots do not share a world view.
      const da = await a.define({ text: tinyYaml({ name: 'same', action: 'report' }) });
      const db = await b.define({ text: tinyYaml({ name: 'same', action: 'report', vcpus: 2 }) });
      const ca = consoleText(a, 'same');
      const cb = consoleText(b, 'same');
      const events: string[] = [];
      da.on('started', () => events.push('a:started'));
      da.on('stopped', (i) => events.push(`a:stopped:${i.reason}`));
      const stoppedA = new Promise<ExitInfo>((r) => da.once('stopped', r));
      const stoppedB = new Promise<ExitInfo>((r) => db.once('stopped', r));
      await Promise.all([da.start(), db.start()]);
      assert.notEqual(da.pid, db.pid);
      const [ia, ib] = await Promise.all([stoppedA, stoppedB]);
      assert.equal(ia.reason, 'shutdown');
      assert.equal(ib.reason, 'shutdown');
      assert.match(ca.text(), /VMKIT-REPORT cpus=1/);
      assert.match(cb.text(), /VMKIT-REPORT cpus=2/);
      assert.deepEqual(events, ['a:started', 'a:stopped:shutdown']);
      assert.equal(da.state(), 'shutoff');
      assert.deepEqual(await readdir(join(base, 'a', 'run')), [], 'run directory removed');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('shutdown() powers the guest off through ACPI; operations in the wrong state fail with InvalidState', { timeout: 90_000 }, async () => {
    const conn = await openEmbedded({ root: join(base, 'c') });
    try {
      const d = await conn.define({ text: tinyYaml({ name: 'acpi', action: 'wait' }) });
      await assert.rejects(d.shutdown(), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidState' && /shutoff/.test(e.message));
      const c = consoleText(conn, 'acpi');
      await d.start();
      assert.equal(d.state(), 'running');
      await assert.rejects(d.start(), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidState' && /running/.test(e.message));
      await c.waitFor('VMKIT-GUEST-READY');
      const info = await d.shutdown({ timeoutMs: 30_000 });
      assert.equal(info.reason, 'shutdown');
      assert.equal(info.requested, true);
      assert.match(c.text(), /VMKIT-GUEST-POWERBUTTON/);
      assert.equal(d.state(), 'shutoff');
    } finally {
      await conn.close();
    }
  });

  it('destroy() stops QEMU and reports reason destroyed; close() kills what still runs', { timeout: 90_000 }, async () => {
    const conn = await openEmbedded({ root: join(base, 'd') });
    const d = await conn.define({ text: tinyYaml({ name: 'victim', action: 'wait' }) });
    await d.start({ paused: true });
    assert.equal(d.state(), 'paused');
    const info = await d.destroy();
    assert.equal(info.reason, 'destroyed');
    await d.start({ paused: true });
    const pid = d.pid ?? -1;
    await conn.close();
    assert.ok(await waitUntil(() => isDead(pid), 2000), 'QEMU is gone after close()');
  });
});
