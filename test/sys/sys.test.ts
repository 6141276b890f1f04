import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { VmkitError } from '../../src/errors.js';
import { prlimit, schedGetaffinity, schedGetscheduler, schedSetaffinity, schedSetscheduler } from '../../src/sys/index.js';

/** A process to experiment on (its main thread's tid is its pid); killed by the test. */
async function sleeper(): Promise<ChildProcess & { pid: number }> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  await once(child, 'spawn');
  return child as ChildProcess & { pid: number };
}

async function status(pid: number, field: string): Promise<string> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(text);
  assert.ok(m !== null, `${field} in /proc/${pid}/status`);
  return m[1]!;
}

/** policy and prio from /proc/<pid>/sched (prio: 120+nice for normal policies, 99-rtprio for fifo/rr). */
async function procSched(pid: number): Promise<{ policy: number; prio: number }> {
  const text = await readFile(`/proc/${pid}/sched`, 'utf8');
  return {
    policy: Number(/^policy\s*:\s*(\d+)$/m.exec(text)?.[1]),
    prio: Number(/^prio\s*:\s*(\d+)$/m.exec(text)?.[1]),
  };
}

async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

test('schedSetaffinity() pins a thread and schedGetaffinity() and /proc read it back', async (t) => {
  const child = await sleeper();
  t.after(() => child.kill('SIGKILL'));
  schedSetaffinity(child.pid, [1]);
  assert.deepEqual(schedGetaffinity(child.pid), [1]);
  assert.equal(await status(child.pid, 'Cpus_allowed_list'), '1');
  schedSetaffinity(child.pid, [0, 1]);
  assert.equal(await status(child.pid, 'Cpus_allowed_list'), '0-1');
});

test('schedSetscheduler() sets batch, idle, fifo and rr and schedGetscheduler() reads them back', async (t) => {
  const child = await sleeper();
  t.after(() => child.kill('SIGKILL'));
  schedSetscheduler(child.pid, 'batch');
  assert.deepEqual(schedGetscheduler(child.pid), { policy: 'batch', priority: 0, resetOnFork: false });
  assert.equal((await procSched(child.pid)).policy, 3);
  schedSetscheduler(child.pid, 'idle');
  assert.equal((await procSched(child.pid)).policy, 5);
  schedSetscheduler(child.pid, 'fifo', 10); // we run as root (CAP_SYS_NICE)
  assert.deepEqual(schedGetscheduler(child.pid), { policy: 'fifo', priority: 10, resetOnFork: false });
  assert.deepEqual(await procSched(child.pid), { policy: 1, prio: 89 });
  schedSetscheduler(child.pid, 'rr', 20);
  assert.deepEqual(await procSched(child.pid), { policy: 2, prio: 79 });
  schedSetscheduler(child.pid, 'other');
  assert.deepEqual(await procSched(child.pid), { policy: 0, prio: 120 });
});

test('syscall failures are HostErrors naming the thread, the call and the errno', async (t) => {
  const gone = await deadPid();
  assert.throws(
    () => schedSetaffinity(gone, [0], { what: 'vCPU 3 (tid 42)' }),
    (e: unknown) =>
      e instanceof VmkitError &&
      e.code === 'HostError' &&
      e.details['errno'] === 'ESRCH' &&
      /^Cannot set the CPU affinity to 0 of vCPU 3 \(tid 42\): sched_setaffinity\(\) failed with ESRCH/.test(e.message),
  );
  const child = await sleeper();
  t.after(() => child.kill('SIGKILL'));
  assert.throws(() => schedSetaffinity(child.pid, [1000]), (e: unknown) => e instanceof VmkitError && e.details['errno'] === 'EINVAL' && e.message.includes(`tid ${child.pid}`));
  assert.throws(() => schedSetscheduler(child.pid, 'fifo', 0), (e: unknown) => e instanceof VmkitError && e.details['errno'] === 'EINVAL' && e.message.includes('fifo priority 0'));
  assert.throws(() => schedSetscheduler(child.pid, 'deadline'), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument');
  assert.throws(() => schedSetaffinity(child.pid, []), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument');
});

/** CAP_SYS_RESOURCE (bit 24) in this process's effective set: needed to raise a hard limit. */
async function hasCapSysResource(): Promise<boolean> {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return ((BigInt(`0x${hex}`) >> 24n) & 1n) === 1n;
}

test('prlimit() sets RLIMIT_MEMLOCK of another process, returns the old value, and /proc/<pid>/limits agrees', async (t) => {
  const child = await sleeper();
  t.after(() => child.kill('SIGKILL'));
  const before = prlimit(child.pid, 'MEMLOCK');
  assert.deepEqual(prlimit(0, 'MEMLOCK'), before, 'the child inherited our limits');
  const hard = before.hard === 'unlimited' ? 1 << 30 : before.hard;
  const old = prlimit(child.pid, 'MEMLOCK', { soft: hard / 2, hard });
  assert.deepEqual(old, before);
  assert.match(await readFile(`/proc/${child.pid}/limits`, 'utf8'), new RegExp(`^Max locked memory\\s+${hard / 2}\\s+${hard}\\s+bytes`, 'm'));
  assert.deepEqual(prlimit(child.pid, 'MEMLOCK'), { soft: hard / 2, hard });
  if (await hasCapSysResource()) {
    prlimit(child.pid, 'MEMLOCK', { soft: 'unlimited', hard: 'unlimited' });
    assert.match(await readFile(`/proc/${child.pid}/limits`, 'utf8'), /^Max locked memory\s+unlimited\s+unlimited\s+bytes/m);
  } else {
    // This machine's root lacks CAP_SYS_RESOURCE: raising the hard limit must fail with EPERM, clearly.
    assert.throws(
      () => prlimit(child.pid, 'MEMLOCK', { soft: 'unlimited', hard: 'unlimited' }, { what: 'QEMU (pid 1)' }),
      (e: unknown) => e instanceof VmkitError && e.details['errno'] === 'EPERM' && e.message.startsWith('Cannot set RLIMIT_MEMLOCK to unlimited/unlimited (soft/hard) of QEMU (pid 1): prlimit() failed with EPERM'),
    );
  }
  const gone = await deadPid();
  assert.throws(() => prlimit(gone, 'MEMLOCK', { soft: 1, hard: 1 }), (e: unknown) => e instanceof VmkitError && e.details['errno'] === 'ESRCH' && e.message.includes(`pid ${gone}`));
});
