import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Connection, openEmbedded, VmkitError, type LifecycleEvent } from '../../src/index.js';
import { isDead, waitUntil } from '../helpers/cli.js';
import { daemonBase } from '../api/daemon-process.js';
import { killQemusUnder, pausedYaml, qemusUnder } from './fixtures.js';

const isCode = (code: string, re?: RegExp) => (e: unknown) => e instanceof VmkitError && e.code === code && (re === undefined || re.test(e.message));

function recorder(conn: Connection): { types: () => string[]; wait: (pred: (e: LifecycleEvent) => boolean, ms?: number) => Promise<LifecycleEvent> } {
  const seen: LifecycleEvent[] = [];
  const waiters: { pred: (e: LifecycleEvent) => boolean; resolve: (e: LifecycleEvent) => void }[] = [];
  conn.on('event', (e) => {
    seen.push(e);
    for (const w of [...waiters]) if (w.pred(e)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(e); }
  });
  return {
    types: () => seen.map((e) => `${e.type}:${e.domain}${e.reason === undefined ? '' : `:${e.reason}`}`),
    wait: (pred, ms = 20_000) => {
      const hit = seen.find(pred);
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no such event within ${ms} ms; saw ${seen.map((e) => e.type).join(',')}`)), ms);
        waiters.push({ pred, resolve: (e) => { clearTimeout(t); resolve(e); } });
      });
    },
  };
}

describe('domain lifecycle on real QEMU (paused guests, KVM when usable)', () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-life-'));
  });
  after(async () => {
    for (const d of await readdir(base)) await killQemusUnder(join(base, d));
    await rm(base, { recursive: true, force: true });
  });

  it('start paused, resume, suspend, reboot and destroy move the state and emit events in order; the last stop persists', { timeout: 60_000 }, async () => {
    const root = join(base, 'a');
    const conn = await openEmbedded({ root });
    const ev = recorder(conn);
    const d = await conn.define({ text: pausedYaml('life') });
    await d.start({ paused: true });
    assert.equal(d.state(), 'paused');
    const info = await d.info();
    assert.equal(info.pid, d.pid);
    assert.ok(info.startedAt !== undefined && info.uptimeMs !== undefined);
    await d.resume();
    assert.equal(d.state(), 'running');
    await d.suspend();
    assert.equal(d.state(), 'paused');
    await d.reboot();
    await ev.wait((e) => e.type === 'rebooted');
    const stop = await d.destroy({ graceMs: 1000 });
    assert.equal(stop.reason, 'destroyed');
    assert.equal(d.state(), 'shutoff');
    assert.deepEqual(ev.types(), ['defined:life:new', 'started:life', 'resumed:life', 'suspended:life:user', 'rebooted:life:host-qmp-system-reset', 'stopped:life:destroyed']);
    await conn.close();
    const again = await openEmbedded({ root });
    try {
      assert.equal(again.lookup('life').lastStop?.reason, 'destroyed');
    } finally {
      await again.close();
    }
  });

  it('an operation in the wrong state fails at once with InvalidState naming both states', { timeout: 60_000 }, async () => {
    const conn = await openEmbedded({ root: join(base, 'b') });
    try {
      const d = await conn.define({ text: pausedYaml('wrong') });
      await assert.rejects(d.suspend(), isCode('InvalidState', /it is shutoff, and suspend needs running/));
      await assert.rejects(d.destroy(), isCode('InvalidState', /it is shutoff, and destroy needs/));
      await d.start({ paused: true });
      await assert.rejects(d.start(), isCode('InvalidState', /it is paused, and start needs shutoff/));
      await assert.rejects(d.suspend(), isCode('InvalidState', /it is paused, and suspend needs running/));
      await assert.rejects(conn.undefine('wrong'), isCode('InvalidState', /it is paused, and undefine needs shutoff/));
      await assert.rejects(conn.define({ text: pausedYaml('wrong', '96M') }), isCode('InvalidState', /it is paused, and redefine needs shutoff/));
      await d.destroy();
    } finally {
      await conn.close();
    }
  });

  it('destroy cancels a start in progress; the start fails with Aborted and nothing is left running', { timeout: 60_000 }, async () => {
    const root = join(base, 'c');
    const conn = await openEmbedded({ root });
    try {
      const d = await conn.define({ text: pausedYaml('cancel') });
      const starting = d.start({ paused: true });
      await waitUntil(async () => d.state() === 'starting', 5000, 1);
      const stop = await d.destroy();
      assert.equal(stop.reason, 'destroyed');
      await assert.rejects(starting, isCode('Aborted', /cancelled by destroy/));
      assert.equal(d.state(), 'shutoff');
      assert.deepEqual(await qemusUnder(root), []);
    } finally {
      await conn.close();
    }
  });

  it('onReboot destroy: a reset ends QEMU and the domain stays off', { timeout: 60_000 }, async () => {
    const conn = await openEmbedded({ root: join(base, 'd') });
    try {
      const d = await conn.define({ text: pausedYaml('noreboot') }, { policies: { onReboot: 'destroy' } });
      await d.start({ paused: true });
      assert.ok(d.process?.argv.join(' ').includes('-action reboot=shutdown'));
      const stopped = new Promise((r) => d.once('stopped', r));
      await d.reboot();
      await stopped;
      assert.equal(d.state(), 'shutoff');
      assert.equal(d.lastStop?.qemuReason, 'host-qmp-system-reset');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(d.state(), 'shutoff', 'not restarted');
    } finally {
      await conn.close();
    }
  });

  it('a QEMU killed with SIGKILL is reported crashed, and onCrash restart starts a fresh one', { timeout: 60_000 }, async () => {
    const conn = await openEmbedded({ root: join(base, 'e') });
    const ev = recorder(conn);
    try {
      const d = await conn.define({ text: pausedYaml('phoenix') }, { policies: { onCrash: 'restart' } });
      await d.start({ paused: true });
      const first = d.pid ?? -1;
      process.kill(first, 'SIGKILL');
      const crashed = await ev.wait((e) => e.type === 'crashed');
      assert.match(crashed.message ?? '', /SIGKILL/);
      const stopped = await ev.wait((e) => e.type === 'stopped');
      assert.equal(stopped.reason, 'crashed');
      const restarted = await ev.wait((e) => e.type === 'started' && e.pid !== first);
      assert.notEqual(restarted.pid, first);
      await waitUntil(async () => d.state() === 'running', 10_000);
      await d.destroy();
    } finally {
      await conn.close();
    }
  });

  it('many domains start and stop in parallel, each with its own queue', { timeout: 90_000 }, async () => {
    const root = join(base, 'f');
    const conn = await openEmbedded({ root });
    try {
      const names = Array.from({ length: 8 }, (_, i) => `par${i}`);
      const doms = await Promise.all(names.map((n) => conn.define({ text: pausedYaml(n, '32M') })));
      await Promise.all(doms.map((d) => d.start({ paused: true })));
      const pids = doms.map((d) => d.pid);
      assert.equal(new Set(pids).size, 8);
      assert.deepEqual(await qemusUnder(root), [...pids].sort((a, b) => (a ?? 0) - (b ?? 0)));
      const stops = await Promise.all(doms.map((d) => d.destroy({ graceMs: 500 })));
      assert.ok(stops.every((s) => s.reason === 'destroyed'));
      assert.deepEqual(await qemusUnder(root), []);
      assert.deepEqual(await readdir(join(root, 'run')), []);
    } finally {
      await conn.close();
    }
  });
});

describe('daemon mode in-process: QEMU outlives the driver and is re-adopted', () => {
  let base: string;
  before(async () => {
    base = await daemonBase('vmkit-test-adopt-'); // daemon mode as root runs QEMU as vmkit-qemu, which must pass through
  });
  after(async () => {
    for (const d of await readdir(base)) await killQemusUnder(join(base, d));
    await rm(base, { recursive: true, force: true });
  });

  it('a closed daemon-mode connection leaves QEMU running; the next open re-adopts it, paused, with the same pid', { timeout: 60_000 }, async () => {
    const root = join(base, 'a');
    const a = await Connection.open({ root, detached: true });
    const d = await a.define({ text: pausedYaml('kept') });
    await d.start({ paused: true });
    const pid = d.pid ?? -1;
    assert.ok(!d.process?.argv.includes('--pdeathsig'));
    await a.close();
    assert.equal(await isDead(pid), false, 'QEMU survives its driver');
    const b = await Connection.open({ root, detached: true });
    try {
      assert.deepEqual(b.openReport.adopted, ['kept']);
      const again = b.lookup('kept');
      assert.equal(again.pid, pid);
      assert.equal(again.state(), 'paused');
      const ev = recorder(b);
      await again.resume();
      assert.equal(again.state(), 'running');
      await again.suspend();
      const stop = await again.destroy({ graceMs: 1000 });
      assert.equal(stop.reason, 'destroyed');
      assert.ok(await waitUntil(() => isDead(pid), 5000));
      assert.deepEqual(ev.types(), ['resumed:kept', 'suspended:kept:user', 'stopped:kept:destroyed']);
      assert.deepEqual(await readdir(join(root, 'run')), [], 'the run directory is removed');
    } finally {
      await b.close();
    }
  });

  it('a QEMU that died while no driver watched is marked stopped, "crashed while unmonitored"', { timeout: 60_000 }, async () => {
    const root = join(base, 'b');
    const a = await Connection.open({ root, detached: true });
    const d = await a.define({ text: pausedYaml('lost') });
    await d.start({ paused: true });
    const pid = d.pid ?? -1;
    await a.close();
    process.kill(pid, 'SIGKILL');
    assert.ok(await waitUntil(() => isDead(pid), 5000));
    const b = await Connection.open({ root, detached: true });
    try {
      assert.deepEqual(b.openReport.diedUnmonitored, ['lost']);
      const again = b.lookup('lost');
      assert.equal(again.state(), 'shutoff');
      assert.equal(again.lastStop?.reason, 'crashed');
      assert.equal(again.lastStop?.unmonitored, true);
      assert.match(again.lastStop?.message ?? '', /crashed while unmonitored/);
      assert.deepEqual(await readdir(join(root, 'run')), []);
    } finally {
      await b.close();
    }
  });

  it('a QEMU whose start never finished (no runtime record) is killed at the next open', { timeout: 60_000 }, async () => {
    const root = join(base, 'c');
    const a = await Connection.open({ root, detached: true });
    const d = await a.define({ text: pausedYaml('half') });
    await d.start({ paused: true });
    const pid = d.pid ?? -1;
    const runtime = d.process?.runDir.runtimeFile ?? '';
    await a.close();
    await unlink(runtime);
    const b = await Connection.open({ root, detached: true });
    try {
      assert.deepEqual(b.openReport.killed, ['half']);
      assert.ok(await waitUntil(() => isDead(pid), 5000));
      assert.equal(b.lookup('half').lastStop?.reason, 'failed');
      assert.match(b.lookup('half').lastStop?.message ?? '', /start interrupted/);
    } finally {
      await b.close();
    }
  });

  it('a re-adopted QEMU that is killed later is seen to exit (QMP hang-up confirmed in /proc)', { timeout: 60_000 }, async () => {
    const root = join(base, 'd');
    const a = await Connection.open({ root, detached: true });
    await (await a.define({ text: pausedYaml('later') })).start({ paused: true });
    await a.close();
    const b = await Connection.open({ root, detached: true });
    try {
      const d = b.lookup('later');
      const stopped = new Promise<unknown>((r) => d.once('stopped', r));
      process.kill(d.pid ?? -1, 'SIGKILL');
      await stopped;
      assert.equal(d.state(), 'shutoff');
      assert.equal(d.lastStop?.reason, 'crashed');
      assert.match(d.lastStop?.message ?? '', /re-adopted/);
    } finally {
      await b.close();
    }
  });
});
