import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../src/errors.js';
import { prlimit } from '../../src/sys/rlimit.js';
import { checkTuning, readHostLimits } from '../../src/tuning/preflight.js';
import { parseQemuThreads } from '../../src/tuning/threads.js';
import { cpuSpec, domain, sysfsFixture } from './spec.js';

test('readHostLimits() reports this process\'s memlock hard limit, RT priority limit and capabilities', async () => {
  const limits = await readHostLimits();
  assert.deepEqual(limits.memlockHard, prlimit(0, 'MEMLOCK').hard);
  assert.deepEqual(limits.rtprioSoft, prlimit(0, 'RTPRIO').soft);
  const capEff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(await readFile('/proc/self/status', 'utf8'))![1]}`);
  assert.equal(limits.capSysNice, ((capEff >> 23n) & 1n) === 1n);
  assert.equal(limits.capSysResource, ((capEff >> 24n) & 1n) === 1n);
});

test('checkTuning() reports every problem before QEMU starts, with the host read from sysfs', async () => {
  const spec = domain({
    vcpuPins: [{ vcpu: 0, cpus: [3] }],
    vcpuSched: { policy: 'fifo', priority: 0 },
    rlimitMemlock: 'unlimited',
  });
  const limits = { memlockHard: 8 << 20, rtprioSoft: 0, capSysNice: true, capSysResource: false };
  await assert.rejects(checkTuning(spec, { sysRoot: sysfsFixture('offline-cpu'), limits }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(
      e.problems.map((p) => p.path),
      ['tuning.vcpuPins[0].cpus', 'tuning.vcpuSched.priority', 'tuning.rlimitMemlock'],
    );
    assert.match(e.message, /vCPU 0 is pinned to host CPU 3, which is offline/);
    return true;
  });
});

test('checkTuning() reports automatic placement that cannot fit, and returns the topology when all is well', async () => {
  const limits = { memlockHard: 'unlimited' as const, rtprioSoft: 0, capSysNice: true, capSysResource: true };
  const sysRoot = sysfsFixture('two-cpu');
  await assert.rejects(checkTuning(domain({ autoPin: true }, { cpu: cpuSpec(4) }), { sysRoot, limits }), /tuning.autoPin: Cannot place 4 vCPUs/);
  const topo = await checkTuning(domain({ autoPin: true }, { cpu: cpuSpec(2) }), { sysRoot, limits });
  assert.deepEqual(topo?.cpus.map((c) => c.id), [0, 1]);
  assert.equal(await checkTuning(domain({}), { sysRoot: '/nonexistent' }), undefined, 'no tuning: no I/O');
});

test('checkTuning() on this machine rejects an unlimited memlock exactly when the process may not raise it', async () => {
  const limits = await readHostLimits();
  const forbidden = !limits.capSysResource && limits.memlockHard !== 'unlimited';
  const run = checkTuning(domain({ rlimitMemlock: 'unlimited' }));
  if (forbidden) await assert.rejects(run, /memlock limit unlimited is beyond what this process may set/);
  else assert.ok((await run) !== undefined);
});

test('parseQemuThreads() reads thread ids from query-cpus-fast and query-iothreads replies', () => {
  const cpus = [
    { 'cpu-index': 0, 'thread-id': 101, props: { 'socket-id': 0, 'core-id': 0, 'thread-id': 0 }, target: 'x86_64' },
    { 'cpu-index': 1, 'thread-id': 102, props: { 'socket-id': 0, 'core-id': 0, 'thread-id': 1 }, target: 'x86_64' },
  ];
  const ios = [{ id: 'io0', 'thread-id': 110, 'poll-max-ns': 32768 }];
  assert.deepEqual(parseQemuThreads(cpus, ios, [100, 101, 102, 110]), {
    vcpus: [
      { index: 0, tid: 101, socket: 0, core: 0, thread: 0 },
      { index: 1, tid: 102, socket: 0, core: 0, thread: 1 },
    ],
    iothreads: [{ id: 'io0', tid: 110 }],
    all: [100, 101, 102, 110],
  });
  assert.throws(() => parseQemuThreads([{ 'cpu-index': 0 }], [], []), { code: 'QmpError', message: /entry 0 has no cpu-index\/thread-id/ });
  assert.throws(() => parseQemuThreads({}, [], []), { code: 'QmpError' });
});
