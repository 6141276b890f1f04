import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEmbedded, VmkitError } from '../../src/index.js';
import { ACCEL_NOTE, tinyGuest, tinyYaml } from '../helpers/guest.js';
import { readThreads } from '../helpers/threads.js';

describe(`tuning through the embedded API (real QEMU; ${ACCEL_NOTE})`, () => {
  let dir: string;
  before(async () => {
    tinyGuest();
    dir = await mkdtemp(join(tmpdir(), 'vmkit-test-tuning-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('pins vCPU, iothread and emulator threads and sets their schedulers before cont', { timeout: 60_000 }, async () => {
    const extra = [
      'iothreads: 1',
      'tuning:',
      '  pinning:',
      '    vcpus: { 0: "1", 1: "0" }',
      '    emulator: "0"',
      '    iothreads: { io0: "1" }',
      '  scheduler:',
      '    vcpus: { policy: rr, priority: 5 }',
      '    iothreads: { policy: batch }',
      '    emulator: { policy: idle }',
    ].join('\n');
    const conn = await openEmbedded({ root: join(dir, 'a') });
    try {
      const d = await conn.define({ text: tinyYaml({ name: 'tuned', vcpus: 2, extra }) });
      let planText = '';
      d.on('tuning', (_plan, text) => (planText = text));
      await d.start({ paused: true });
      const threads = await readThreads(d.pid ?? -1);
      const byName = (p: string) => threads.filter((t) => t.comm.startsWith(p));
      const [v0] = byName('CPU 0/');
      const [v1] = byName('CPU 1/');
      const [io] = byName('IO io0');
      assert.ok(v0 && v1 && io, `threads: ${threads.map((t) => t.comm).join(', ')}`);
      assert.deepEqual([v0.cpus, v0.policy, v0.prio], ['1', 2, 94], 'vCPU 0: CPU 1, SCHED_RR prio 5');
      assert.deepEqual([v1.cpus, v1.policy], ['0', 2]);
      assert.deepEqual([io.cpus, io.policy], ['1', 3], 'iothread: CPU 1, SCHED_BATCH');
      const emulator = threads.filter((t) => t !== v0 && t !== v1 && t !== io);
      assert.ok(emulator.length > 0);
      for (const t of emulator) assert.deepEqual([t.comm, t.cpus, t.policy], [t.comm, '0', 5], `emulator thread ${t.comm}: CPU 0, SCHED_IDLE`);
      assert.match(planText, /vCPU 0/);
      await d.destroy();
    } finally {
      await conn.close();
    }
  });

  it('auto placement avoids CPUs already pinned by another VM of the same connection', { timeout: 60_000 }, async () => {
    const conn = await openEmbedded({ root: join(dir, 'b') });
    try {
      const a = await conn.define({ text: tinyYaml({ name: 'first', extra: 'tuning:\n  pinning:\n    vcpus: { 0: "1" }' }) });
      const b = await conn.define({ text: tinyYaml({ name: 'second', extra: 'tuning:\n  pinning: auto' }) });
      await a.start({ paused: true });
      await b.start({ paused: true });
      const vb = (await readThreads(b.pid ?? -1)).find((t) => t.comm.startsWith('CPU 0/'));
      assert.equal(vb?.cpus, '0', 'the only CPU left (CPU 1 is taken by the first VM)');
    } finally {
      await conn.close();
    }
  });

  it('a pin to a CPU that does not exist is rejected before QEMU starts', { timeout: 30_000 }, async () => {
    const conn = await openEmbedded({ root: join(dir, 'c') });
    try {
      const d = await conn.define({ text: tinyYaml({ name: 'bad', extra: 'tuning:\n  pinning:\n    vcpus: { 0: "64" }' }) });
      await assert.rejects(d.start(), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidConfig' && /64/.test(e.message));
      assert.equal(d.state(), 'shutoff');
      assert.equal(d.pid, undefined);
    } finally {
      await conn.close();
    }
  });
});
