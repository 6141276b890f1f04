/**
 * applyTuning() on a real paused QEMU (TCG): affinities, schedulers and the memlock limit read back from
 * /proc for every thread, then undone. We run as root here; this machine's root lacks CAP_SYS_RESOURCE,
 * so memlock is set within the current hard limit unless the capability is present.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { VmkitError } from '../../src/errors.js';
import { readHostTopology } from '../../src/host/topology.js';
import { applyTuning, memlockLimit } from '../../src/tuning/apply.js';
import { planTuning, type TuningPlan } from '../../src/tuning/plan.js';
import { allowedCpus, memlockOf, startQemu, threadSched } from './qemu-fixture.js';
import { domain, cpuSpec } from './spec.js';

const POLICY = { other: 0, fifo: 1, rr: 2, batch: 3, idle: 5 } as const;

async function capSysResource(): Promise<boolean> {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return ((BigInt(`0x${hex}`) >> 24n) & 1n) === 1n;
}

test('applyTuning() pins and schedules every QEMU thread, sets memlock, and undo() restores them', async (t) => {
  const qemu = await startQemu({ smp: 2, iothreads: ['io0'] });
  t.after(() => qemu.stop());
  const { pid, threads } = qemu;
  assert.equal(threads.vcpus.length, 2);
  // debug-threads=on names the threads: QMP's thread ids must match them.
  for (const v of threads.vcpus) assert.equal(qemu.comm.get(v.tid), `CPU ${v.index}/TCG`);
  assert.equal(qemu.comm.get(threads.iothreads[0]!.tid), 'IO io0');

  const memlock = (await capSysResource()) ? 'unlimited' : 4 << 20;
  const spec = domain(
    {
      vcpuPins: [
        { vcpu: 0, cpus: [1] },
        { vcpu: 1, cpus: [0] },
      ],
      emulatorPin: [0, 1],
      iothreadPins: [{ iothread: 'io0', cpus: [1] }],
      vcpuSched: { policy: 'fifo', priority: 10 },
      iothreadSched: { policy: 'batch' },
      emulatorSched: { policy: 'idle' },
      rlimitMemlock: memlock,
    },
    { iothreads: ['io0'], cpu: cpuSpec(2) },
  );
  const plan = planTuning(spec, threads, await readHostTopology());
  const emulatorTids = threads.all.filter((tid) => !threads.vcpus.some((v) => v.tid === tid) && tid !== threads.iothreads[0]!.tid);
  assert.ok(emulatorTids.length >= 2, 'main loop, RCU and monitor threads');
  const beforeLimit = await memlockOf(pid);

  const applied = await applyTuning(pid, plan);
  const expected = new Map<number, [string, number, number | undefined]>([
    [threads.vcpus.find((v) => v.index === 0)!.tid, ['1', POLICY.fifo, 89]],
    [threads.vcpus.find((v) => v.index === 1)!.tid, ['0', POLICY.fifo, 89]],
    [threads.iothreads[0]!.tid, ['1', POLICY.batch, undefined]],
    ...emulatorTids.map((tid): [number, [string, number, undefined]] => [tid, ['0-1', POLICY.idle, undefined]]),
  ]);
  for (const tid of threads.all) {
    const [cpus, policy, prio] = expected.get(tid)!;
    const label = `${qemu.comm.get(tid)} (tid ${tid})`;
    assert.equal(await allowedCpus(pid, tid), cpus, `${label} Cpus_allowed_list`);
    const s = await threadSched(pid, tid);
    assert.equal(s.policy, policy, `${label} policy`);
    if (prio !== undefined) assert.equal(s.prio, prio, `${label} prio (99 - 10)`);
  }
  const wantLimit = memlock === 'unlimited' ? ['unlimited', 'unlimited'] : [String(4 << 20), beforeLimit[1]];
  assert.deepEqual(await memlockOf(pid), wantLimit);

  await applied.undo();
  for (const tid of threads.all) {
    assert.equal(await allowedCpus(pid, tid), '0-1', `tid ${tid} affinity restored`);
    assert.deepEqual(await threadSched(pid, tid), { policy: POLICY.other, prio: 120 }, `tid ${tid} scheduler restored`);
  }
  assert.deepEqual(await memlockOf(pid), beforeLimit);
  await applied.undo(); // idempotent
});

test('applyTuning() stops at the first failing thread, names it and the errno, and undoes the others', async (t) => {
  const qemu = await startQemu({ smp: 2, iothreads: ['io0'] });
  t.after(() => qemu.stop());
  const { pid, threads } = qemu;
  const v0 = threads.vcpus.find((v) => v.index === 0)!.tid;
  const v1 = threads.vcpus.find((v) => v.index === 1)!.tid;
  // Plans are normally validated; this one is built by hand to make the kernel refuse vCPU 1's CPU.
  const plan: TuningPlan = {
    threads: [
      { tid: v0, role: 'vcpu', label: 'vCPU 0', cpus: [1], sched: { policy: 'rr', priority: 5 } },
      { tid: v1, role: 'vcpu', label: 'vCPU 1', cpus: [200] },
      { tid: threads.iothreads[0]!.tid, role: 'iothread', label: 'iothread io0', cpus: [1] },
    ],
  };
  await assert.rejects(applyTuning(pid, plan), (e: unknown) => {
    assert.ok(e instanceof VmkitError);
    assert.equal(e.code, 'HostError');
    assert.equal(e.details['errno'], 'EINVAL');
    assert.match(e.message, new RegExp(`^Cannot set the CPU affinity to 200 of vCPU 1 \\(tid ${v1}\\): sched_setaffinity\\(\\) failed with EINVAL`));
    return true;
  });
  assert.equal(await allowedCpus(pid, v0), '0-1', 'vCPU 0 affinity undone');
  assert.deepEqual(await threadSched(pid, v0), { policy: POLICY.other, prio: 120 }, 'vCPU 0 scheduler undone');
  assert.equal(await allowedCpus(pid, threads.iothreads[0]!.tid), '0-1', 'iothread never touched');
});

test('applyTuning() honours an aborted signal before changing anything', async (t) => {
  const qemu = await startQemu({ smp: 1, iothreads: [] });
  t.after(() => qemu.stop());
  const tid = qemu.threads.vcpus[0]!.tid;
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(applyTuning(qemu.pid, { threads: [{ tid, role: 'vcpu', label: 'vCPU 0', cpus: [1] }] }, { signal: ac.signal }), {
    code: 'Aborted',
  });
  assert.equal(await allowedCpus(qemu.pid, tid), '0-1');
});

test('undo() after QEMU has exited succeeds without touching anything', async () => {
  const qemu = await startQemu({ smp: 1, iothreads: [] });
  const tid = qemu.threads.vcpus[0]!.tid;
  const applied = await applyTuning(qemu.pid, { threads: [{ tid, role: 'vcpu', label: 'vCPU 0', cpus: [1], sched: { policy: 'batch' } }], rlimitMemlock: 1 << 20 });
  await qemu.stop();
  await applied.undo(); // every target is gone: ESRCH counts as undone
  await assert.rejects(readFile(`/proc/${qemu.pid}/task/${tid}/status`), { code: 'ENOENT' });
});

test('memlockLimit() sets the soft limit and raises the hard limit only when it is lower', () => {
  assert.deepEqual(memlockLimit(4096, { soft: 1024, hard: 8192 }), { soft: 4096, hard: 8192 });
  assert.deepEqual(memlockLimit(16384, { soft: 1024, hard: 8192 }), { soft: 16384, hard: 16384 });
  assert.deepEqual(memlockLimit(16384, { soft: 1024, hard: 'unlimited' }), { soft: 16384, hard: 'unlimited' });
  assert.deepEqual(memlockLimit('unlimited', { soft: 1024, hard: 8192 }), { soft: 'unlimited', hard: 'unlimited' });
});

test('applyTuning() for 4 vCPUs and an iothread takes at most 2 ms and forks no process', async (t) => {
  const qemu = await startQemu({ smp: 4, iothreads: ['io0'] });
  t.after(() => qemu.stop());
  const spec = domain(
    {
      vcpuPins: [0, 1, 2, 3].map((vcpu) => ({ vcpu, cpus: [vcpu % 2] })),
      emulatorPin: [0],
      iothreadPins: [{ iothread: 'io0', cpus: [1] }],
      vcpuSched: { policy: 'fifo', priority: 10 },
      iothreadSched: { policy: 'batch' },
      emulatorSched: { policy: 'other' },
      rlimitMemlock: 1 << 20,
    },
    { iothreads: ['io0'], cpu: cpuSpec(4) },
  );
  const plan = planTuning(spec, qemu.threads, await readHostTopology());
  const childrenBefore = await childPids(process.pid);
  const applyMs: number[] = [];
  const undoMs: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    const applied = await applyTuning(qemu.pid, plan);
    const t1 = performance.now();
    await applied.undo();
    applyMs.push(t1 - t0);
    undoMs.push(performance.now() - t1);
  }
  assert.deepEqual(await childPids(process.pid), childrenBefore, 'no process started');
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  t.diagnostic(`threads ${plan.threads.length}; applyTuning median ${median(applyMs).toFixed(3)} ms (max ${Math.max(...applyMs).toFixed(3)}), undo median ${median(undoMs).toFixed(3)} ms`);
  assert.ok(median(applyMs) <= 2, `median ${median(applyMs)} ms <= 2 ms`);
});

test('the tuning and syscall modules never import child_process', async () => {
  const dist = fileURLToPath(new URL('../../src/', import.meta.url));
  for (const dir of ['tuning', 'sys']) {
    for (const f of (await readdir(`${dist}${dir}`)).filter((n) => n.endsWith('.js'))) {
      assert.doesNotMatch(await readFile(`${dist}${dir}/${f}`, 'utf8'), /child_process/, `${dir}/${f}`);
    }
  }
});

async function childPids(pid: number): Promise<string> {
  const tasks = await readdir(`/proc/${pid}/task`);
  const kids = await Promise.all(tasks.map((tid) => readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '')));
  return kids.join(' ').split(/\s+/).filter(Boolean).sort().join(' ');
}
