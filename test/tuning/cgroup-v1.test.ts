/**
 * cpuset isolation on the real cgroup v1 cpuset hierarchy of this machine. Each test works under its own
 * test root (/sys/fs/cgroup/cpuset/vmkit-test-...), which stands in for the hierarchy root: only tasks
 * placed there (a `sleep` standing for "the host's other tasks") are moved into the pool, so the
 * machine's real tasks are never touched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmkitError } from '../../src/errors.js';
import { readHostTopology } from '../../src/host/topology.js';
import { applyTuning } from '../../src/tuning/apply.js';
import { detectCpuset, groupName, processStart, sweepCgroups } from '../../src/tuning/cgroup.js';
import { planTuning } from '../../src/tuning/plan.js';
import { allowedCpus, startQemu } from './qemu-fixture.js';
import { domain } from './spec.js';

const V1 = '/sys/fs/cgroup/cpuset';
let serial = 0;

const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);
const tasksOf = async (dir: string): Promise<number[]> =>
  (await readFile(join(dir, 'tasks'), 'utf8')).split('\n').filter(Boolean).map(Number);

/** Moves every task of `dir`'s subtree to the real root and removes it, children first. */
async function destroyTree(dir: string): Promise<void> {
  if (!(await exists(dir))) return;
  for (const e of await readdir(dir, { withFileTypes: true })) if (e.isDirectory()) await destroyTree(join(dir, e.name));
  for (const tid of await tasksOf(dir)) await writeFile(join(V1, 'tasks'), String(tid)).catch(() => undefined);
  for (let i = 0; ; i++) {
    try {
      await rmdir(dir);
      return;
    } catch (e) {
      if (i > 40) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function makeGroup(dir: string, cpus: string): Promise<void> {
  await mkdir(dir);
  await writeFile(join(dir, 'cpuset.mems'), (await readFile(join(V1, 'cpuset.mems'), 'utf8')).trim());
  await writeFile(join(dir, 'cpuset.cpus'), cpus);
}

/** A fresh test root with CPUs 0-1 and one "other task" (a sleep) in it; all removed after the test. */
async function testRoot(t: { after(fn: () => Promise<void>): void }): Promise<{ root: string; other: ChildProcess & { pid: number } }> {
  const root = join(V1, `vmkit-test-${process.pid}-${serial++}`);
  await makeGroup(root, '0-1');
  const other = spawn('sleep', ['60'], { stdio: 'ignore' }) as ChildProcess & { pid: number };
  await once(other, 'spawn');
  await writeFile(join(root, 'tasks'), String(other.pid));
  t.after(async () => {
    other.kill('SIGKILL');
    await destroyTree(root);
  });
  return { root, other };
}

async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

test('this machine has a cgroup v1 cpuset hierarchy and a cgroup2 mount without the cpuset controller', async () => {
  assert.deepEqual(await detectCpuset(), { version: 1, root: V1 });
  const controllers = (await readFile('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8')).split(/\s+/);
  assert.ok(!controllers.includes('cpuset'), 'cpuset is bound to v1, so the v2 path is tested on a simulated hierarchy');
  await assert.rejects(detectCpuset({ cgroupRoot: '/sys/fs/cgroup/unified' }), /cgroup v2 hierarchy at \/sys\/fs\/cgroup\/unified has no cpuset controller/);
});

test('isolation on cgroup v1 creates the pool and per-thread groups, shields the CPU, and undo removes them', async (t) => {
  const { root, other } = await testRoot(t);
  const qemu = await startQemu({ smp: 2, iothreads: ['io0'] });
  t.after(() => qemu.stop());
  const { pid, threads } = qemu;
  const spec = domain(
    {
      isolate: true,
      vcpuPins: [
        { vcpu: 0, cpus: [1] },
        { vcpu: 1, cpus: [1] },
      ],
      iothreadPins: [{ iothread: 'io0', cpus: [1] }],
      emulatorPin: [1],
    },
    { iothreads: ['io0'] },
  );
  const plan = planTuning(spec, threads, await readHostTopology());
  assert.deepEqual(plan.isolate, { cpus: [1] });

  const t0 = performance.now();
  const applied = await applyTuning(pid, plan, { cgroupRoot: root, vmName: 't' });
  const applyMs = performance.now() - t0;
  const vm = join(root, 'vmkit', groupName({ vm: 't', pid, start: (await processStart(pid))! }));
  assert.equal((await readFile(join(root, 'vmkit', 'pool', 'cpuset.cpus'), 'utf8')).trim(), '0');
  assert.deepEqual(await tasksOf(join(root, 'vmkit', 'pool')), [other.pid], 'the other task moved to the pool');
  assert.equal(await allowedCpus(other.pid, other.pid), '0', 'the other task is kept off CPU 1');
  assert.equal((await readFile(join(vm, 'cpuset.cpus'), 'utf8')).trim(), '1');
  assert.deepEqual((await readdir(vm, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort(), [
    'emulator',
    'iothread-io0',
    'vcpu0',
    'vcpu1',
  ]);
  for (const v of threads.vcpus) assert.deepEqual(await tasksOf(join(vm, `vcpu${v.index}`)), [v.tid]);
  assert.deepEqual(await tasksOf(join(vm, 'iothread-io0')), [threads.iothreads[0]!.tid]);
  const special = new Set([...threads.vcpus.map((v) => v.tid), threads.iothreads[0]!.tid]);
  assert.deepEqual(await tasksOf(join(vm, 'emulator')), threads.all.filter((tid) => !special.has(tid)));
  for (const tid of threads.all) {
    assert.equal(await allowedCpus(pid, tid), '1', `tid ${tid} on CPU 1`);
    assert.match(await readFile(`/proc/${pid}/task/${tid}/cpuset`, 'utf8'), new RegExp(`/vmkit/t@${pid}-\\d+/(vcpu\\d|iothread-io0|emulator)\\n$`));
  }

  const t1 = performance.now();
  await applied.undo();
  t.diagnostic(`v1 isolation of ${threads.all.length} threads: apply ${applyMs.toFixed(2)} ms, undo ${(performance.now() - t1).toFixed(2)} ms`);
  assert.equal(await exists(join(root, 'vmkit')), false, 'everything vmkit created is gone');
  assert.ok((await tasksOf(root)).includes(other.pid), 'the other task is back in the root');
  assert.equal(await allowedCpus(other.pid, other.pid), '0-1');
  for (const tid of threads.all) assert.equal(await allowedCpus(pid, tid), '0-1', `tid ${tid} back on every CPU`);
});

test('sweepCgroups() removes a stale VM group whose owner is dead and dissolves the pool', async (t) => {
  const { root, other } = await testRoot(t);
  await makeGroup(join(root, 'vmkit'), '0-1');
  await makeGroup(join(root, 'vmkit', 'pool'), '0');
  await writeFile(join(root, 'vmkit', 'pool', 'tasks'), String(other.pid));
  const ghost = join(root, 'vmkit', groupName({ vm: 'ghost', pid: await deadPid(), start: '12345' }));
  await makeGroup(ghost, '1');
  await makeGroup(join(ghost, 'vcpu0'), '1');

  const removed = await sweepCgroups({ version: 1, root });
  assert.deepEqual(removed, [ghost]);
  assert.equal(await exists(join(root, 'vmkit')), false);
  assert.ok((await tasksOf(root)).includes(other.pid), 'the pool task went back to the root');
});

test('sweepCgroups() keeps the group of a live owner and gives the dead one\'s CPUs back to the pool', async (t) => {
  const { root, other } = await testRoot(t);
  await makeGroup(join(root, 'vmkit'), '0-1');
  await makeGroup(join(root, 'vmkit', 'pool'), '0');
  const live = join(root, 'vmkit', groupName({ vm: 'live', pid: other.pid, start: (await processStart(other.pid))! }));
  await makeGroup(live, '1');
  // Same pid, wrong start time: a recycled pid does not keep a stale group alive.
  const recycled = join(root, 'vmkit', groupName({ vm: 'old', pid: other.pid, start: '1' }));
  await makeGroup(recycled, '1');

  assert.deepEqual(await sweepCgroups({ version: 1, root }), [recycled]);
  assert.equal(await exists(live), true);
  assert.equal((await readFile(join(root, 'vmkit', 'pool', 'cpuset.cpus'), 'utf8')).trim(), '0');
  await rmdir(live);
  assert.deepEqual(await sweepCgroups({ version: 1, root }), []);
  assert.equal(await exists(join(root, 'vmkit')), false, 'no VM group left: the shared groups go too');
});

test('isolating CPUs another live VM holds fails naming that VM, and leaves nothing of the new VM behind', async (t) => {
  const { root, other } = await testRoot(t);
  await makeGroup(join(root, 'vmkit'), '0-1');
  const holder = join(root, 'vmkit', groupName({ vm: 'holder', pid: other.pid, start: (await processStart(other.pid))! }));
  await makeGroup(holder, '1');
  const qemu = await startQemu({ smp: 1, iothreads: [] });
  t.after(() => qemu.stop());
  const plan = planTuning(domain({ isolate: true, vcpuPins: [{ vcpu: 0, cpus: [1] }] }, { cpu: { vcpus: 1, sockets: 1, cores: 1, threads: 1 } }), qemu.threads, await readHostTopology());
  await assert.rejects(applyTuning(qemu.pid, plan, { cgroupRoot: root, vmName: 'second' }), (e: unknown) => {
    assert.ok(e instanceof VmkitError);
    assert.match(e.message, new RegExp(`^Cannot isolate CPUs 1: they are already isolated for VM 'holder' \\(QEMU pid ${other.pid}`));
    return true;
  });
  assert.deepEqual((await readdir(join(root, 'vmkit'))).filter((n) => n.includes('@')), [holder.split('/').pop()]);
  for (const tid of qemu.threads.all) assert.equal(await allowedCpus(qemu.pid, tid), '0-1');
});
