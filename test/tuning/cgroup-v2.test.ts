/**
 * The cgroup v2 isolation path on a simulated hierarchy (FakeCgroup2): this machine's cpuset controller is
 * bound to cgroup v1, so it cannot be enabled in its cgroup2 mount (see cgroup-v1.test.ts). Owners are
 * real processes, so liveness checks read the real /proc.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { VmkitError } from '../../src/errors.js';
import { detectCpuset, groupName, isolateThreads, processStart, sweepCgroups, type CpusetHierarchy } from '../../src/tuning/cgroup.js';
import type { ThreadAction } from '../../src/tuning/plan.js';
import { FakeCgroup2 } from './fake-cgroup2.js';

const R = '/fake/cgroup';
const H: CpusetHierarchy = { version: 2, root: R };

async function owner(t: { after(fn: () => void): void }): Promise<number> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' }) as ChildProcess & { pid: number };
  await once(child, 'spawn');
  t.after(() => child.kill('SIGKILL'));
  return child.pid;
}

/** Fake thread ids of VM `pid` (the main thread is the real pid; the others cannot collide across VMs). */
const tid = (pid: number, k: number): number => 100_000_000 + pid * 16 + k;

function vmThreads(pid: number, pins: number[][]): ThreadAction[] {
  return [
    ...pins.map((cpus, i): ThreadAction => ({ tid: tid(pid, 1 + i), role: 'vcpu', label: `vCPU ${i}`, cpus })),
    { tid: tid(pid, 10), role: 'iothread', label: 'iothread io0' },
    { tid: pid, role: 'emulator', label: `emulator tid ${pid}` },
    { tid: tid(pid, 11), role: 'emulator', label: `emulator tid ${tid(pid, 11)}` },
  ];
}

function setup(pids: number[], cpus = [0, 1, 2, 3]): FakeCgroup2 {
  const fs = new FakeCgroup2(R, cpus);
  fs.addProcess([1, 2]); // the host's other tasks, in the root
  for (const pid of pids) fs.addProcess([pid, tid(pid, 1), tid(pid, 2), tid(pid, 10), tid(pid, 11)]);
  return fs;
}

test('detectCpuset() recognises a cgroup v2 root that offers cpuset', async () => {
  assert.deepEqual(await detectCpuset({ cgroupRoot: R, fs: setup([]) }), H);
  await assert.rejects(detectCpuset({ cgroupRoot: R, fs: new FakeCgroup2(R, [0, 1], ['memory', 'pids']) }), /has no cpuset controller \(available: memory pids\)/);
});

test('isolation on cgroup v2 makes vmkit a partition root and the VM an isolated partition with threaded groups', async (t) => {
  const pid = await owner(t);
  const fs = setup([pid]);
  const group = await isolateThreads(H, { vmName: 'v2', pid, cpus: [2, 3], threads: vmThreads(pid, [[2], [3]]) }, { fs });
  const vm = `${R}/vmkit/${groupName({ vm: 'v2', pid, start: (await processStart(pid))! })}`;
  assert.equal(group.path, vm);
  assert.equal((await fs.read(`${R}/cgroup.subtree_control`)).trim(), 'cpuset');
  assert.equal((await fs.read(`${R}/vmkit/cpuset.cpus`)).trim(), '2-3');
  assert.equal((await fs.read(`${R}/vmkit/cpuset.cpus.partition`)).trim(), 'root');
  assert.equal((await fs.read(`${vm}/cpuset.cpus.partition`)).trim(), 'isolated', 'every vCPU has one CPU');
  assert.equal((await fs.read(`${R}/cpuset.cpus.effective`)).trim(), '0-1', 'the host keeps CPUs 0-1 only');
  assert.equal((await fs.read(`${vm}/cgroup.procs`)).trim(), String(pid));
  assert.equal((await fs.read(`${vm}/cgroup.type`)).trim(), 'domain threaded');
  assert.deepEqual((await fs.subdirs(vm)).sort(), ['emulator', 'iothread-io0', 'vcpu0', 'vcpu1']);
  assert.equal((await fs.read(`${vm}/vcpu0/cgroup.threads`)).trim(), String(tid(pid, 1)));
  assert.equal((await fs.read(`${vm}/vcpu1/cpuset.cpus`)).trim(), '3');
  assert.equal((await fs.read(`${vm}/iothread-io0/cpuset.cpus`)).trim(), '2-3', 'unpinned: all of the VM\'s CPUs');
  assert.deepEqual((await fs.read(`${vm}/emulator/cgroup.threads`)).trim().split('\n').map(Number), [pid, tid(pid, 11)]);
  assert.equal((await fs.read(`${vm}/emulator/cgroup.type`)).trim(), 'threaded');

  await group.undo();
  assert.deepEqual(await fs.subdirs(R), [], 'vmkit and the VM group are gone');
  assert.equal((await fs.read(`${R}/cgroup.subtree_control`)).trim(), '', 'the +cpuset vmkit added is taken back');
  assert.ok((await fs.read(`${R}/cgroup.procs`)).split('\n').includes(String(pid)), 'QEMU is back in the root');
  await group.undo(); // idempotent
});

test('a VM whose vCPUs float over several CPUs gets a load-balanced root partition', async (t) => {
  const pid = await owner(t);
  const fs = setup([pid]);
  const group = await isolateThreads(H, { vmName: 'wide', pid, cpus: [1, 2, 3], threads: vmThreads(pid, [[1, 2], [3]]) }, { fs });
  assert.equal((await fs.read(`${group.path}/cpuset.cpus.partition`)).trim(), 'root');
  await group.undo();
});

test('two VMs on cgroup v2 share the vmkit partition, which shrinks when one ends', async (t) => {
  const [a, b] = [await owner(t), await owner(t)];
  const fs = setup([a, b]);
  const ga = await isolateThreads(H, { vmName: 'a', pid: a, cpus: [1], threads: vmThreads(a, [[1]]) }, { fs });
  const gb = await isolateThreads(H, { vmName: 'b', pid: b, cpus: [2, 3], threads: vmThreads(b, [[2], [3]]) }, { fs });
  assert.equal((await fs.read(`${R}/vmkit/cpuset.cpus`)).trim(), '1-3');
  await assert.rejects(
    isolateThreads(H, { vmName: 'c', pid: a, cpus: [3], threads: [] }, { fs }),
    /Cannot isolate CPUs 3: they are already isolated for VM 'b'/,
  );
  await ga.undo();
  assert.equal((await fs.read(`${R}/vmkit/cpuset.cpus`)).trim(), '2-3');
  assert.equal((await fs.read(`${R}/vmkit/cpuset.cpus.partition`)).trim(), 'root');
  await gb.undo();
  assert.deepEqual(await fs.subdirs(R), []);
});

test('CPUs held by another cpuset partition are refused before anything is created', async (t) => {
  const pid = await owner(t);
  const fs = setup([pid]);
  await fs.write(`${R}/cgroup.subtree_control`, '+cpuset');
  await fs.mkdir(`${R}/rt`);
  await fs.write(`${R}/rt/cpuset.cpus`, '3');
  await fs.write(`${R}/rt/cpuset.cpus.partition`, 'isolated'); // someone else's partition holds CPU 3
  await assert.rejects(
    isolateThreads(H, { vmName: 'x', pid, cpus: [2, 3], threads: vmThreads(pid, [[2], [3]]) }, { fs }),
    new RegExp(`^VmkitError: Cannot isolate CPUs 3: they are not available in ${R} \\(cpuset.cpus.effective is 0-2; another cpuset partition may hold them\\)$`),
  );
  assert.deepEqual(await fs.subdirs(R), ['rt']);
  assert.equal((await fs.read(`${R}/cgroup.subtree_control`)).trim(), 'cpuset', 'it was enabled before vmkit came');
});

test('an invalid partition is reported with the kernel\'s reason, and what was created is removed', async (t) => {
  // A delegated subtree (like machine.slice) as the root: not a partition root, so a local partition under it is invalid.
  const pid = await owner(t);
  const fs = setup([pid]);
  await fs.write(`${R}/cgroup.subtree_control`, '+cpuset');
  await fs.mkdir(`${R}/machine`);
  await fs.write(`${R}/machine/cgroup.subtree_control`, '+cpuset');
  const h: CpusetHierarchy = { version: 2, root: `${R}/machine` };
  await assert.rejects(isolateThreads(h, { vmName: 'x', pid, cpus: [2, 3], threads: vmThreads(pid, [[2], [3]]) }, { fs }), (e: unknown) => {
    assert.ok(e instanceof VmkitError);
    assert.equal(e.code, 'HostError');
    assert.equal(e.message, `Cannot make ${R}/machine/vmkit a root cpuset partition: the kernel reports 'root invalid (Parent is not a partition root)'`);
    return true;
  });
  assert.deepEqual(await fs.subdirs(`${R}/machine`), []);
});

test('isolation on cgroup v2 refuses to take every CPU from the host', async (t) => {
  const pid = await owner(t);
  const fs = setup([pid], [0, 1]);
  await assert.rejects(
    isolateThreads(H, { vmName: 'all', pid, cpus: [0, 1], threads: vmThreads(pid, [[0], [1]]) }, { fs }),
    /Cannot isolate CPUs 0-1: no CPU of 0-1 would be left for the host's other tasks/,
  );
  assert.deepEqual(await fs.subdirs(R), []);
});

test('sweepCgroups() on cgroup v2 removes a dead owner\'s group and the vmkit partition', async (t) => {
  const pid = await owner(t);
  const fs = setup([pid]);
  const group = await isolateThreads(H, { vmName: 'kept', pid, cpus: [3], threads: vmThreads(pid, [[3]]) }, { fs });
  // A group left by a killed vmkit: its owner pid no longer exists (the process is gone from the tree too).
  const dead = 2 ** 22 + 17; // above pid_max's default range
  const ghost = `${R}/vmkit/${groupName({ vm: 'ghost', pid: dead, start: '42' })}`;
  await fs.mkdir(ghost);
  await fs.write(`${ghost}/cpuset.cpus`, '2');
  await fs.write(`${R}/vmkit/cpuset.cpus`, '2-3');
  await fs.write(`${ghost}/cgroup.subtree_control`, '+cpuset');
  await fs.mkdir(`${ghost}/vcpu0`);
  await fs.write(`${ghost}/vcpu0/cgroup.type`, 'threaded');

  assert.deepEqual(await sweepCgroups(H, { fs }), [ghost]);
  assert.deepEqual(await fs.subdirs(`${R}/vmkit`), [group.path.split('/').pop()]);
  assert.equal((await fs.read(`${R}/vmkit/cpuset.cpus`)).trim(), '3', 'the dead VM\'s CPU goes back to the host');
  await group.undo();
  assert.deepEqual(await fs.subdirs(R), []);
});
