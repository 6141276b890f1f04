import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { readHostTopology, type HostTopology } from '../../src/host/topology.js';
import { describePlan, needsTuning, planTuning, type QemuThreads } from '../../src/tuning/plan.js';
import { tuningWarnings, validateTuning } from '../../src/tuning/validate.js';
import { cpuSpec, domain, sysfsFixture } from './spec.js';

const topo = (name: string): Promise<HostTopology> => readHostTopology({ sysRoot: sysfsFixture(name) });
const threads: QemuThreads = {
  vcpus: [
    { index: 1, tid: 1002 },
    { index: 0, tid: 1001 },
  ],
  iothreads: [{ id: 'io0', tid: 1003 }],
  all: [1000, 1001, 1002, 1003, 1004],
};

let host2: HostTopology;
test.before(async () => {
  host2 = await topo('two-cpu');
});

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.equal(e.code, 'InvalidConfig');
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('expected planTuning() to throw');
}

test('planTuning() maps explicit vCPU, iothread and emulator pins and schedulers onto QEMU thread ids', async () => {
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
      rlimitMemlock: 'unlimited',
    },
    { iothreads: ['io0'] },
  );
  const plan = planTuning(spec, threads, await topo('two-cpu'));
  assert.deepEqual(plan, {
    threads: [
      { tid: 1001, role: 'vcpu', label: 'vCPU 0', cpus: [1], sched: { policy: 'fifo', priority: 10 } },
      { tid: 1002, role: 'vcpu', label: 'vCPU 1', cpus: [0], sched: { policy: 'fifo', priority: 10 } },
      { tid: 1003, role: 'iothread', label: 'iothread io0', cpus: [1], sched: { policy: 'batch' } },
      { tid: 1000, role: 'emulator', label: 'emulator tid 1000', cpus: [0, 1], sched: { policy: 'idle' } },
      { tid: 1004, role: 'emulator', label: 'emulator tid 1004', cpus: [0, 1], sched: { policy: 'idle' } },
    ],
    rlimitMemlock: 'unlimited',
  });
  assert.equal(
    describePlan(plan),
    [
      'vCPU 0 (tid 1001): cpus 1, sched fifo 10',
      'vCPU 1 (tid 1002): cpus 0, sched fifo 10',
      'iothread io0 (tid 1003): cpus 1, sched batch',
      'emulator tid 1000: cpus 0-1, sched idle',
      'emulator tid 1004: cpus 0-1, sched idle',
      'rlimit memlock: unlimited',
    ].join('\n'),
  );
});

test('planTuning() leaves out threads with nothing to do', async () => {
  const plan = planTuning(domain({ vcpuPins: [{ vcpu: 1, cpus: [1] }] }), threads, await topo('two-cpu'));
  assert.deepEqual(plan, { threads: [{ tid: 1002, role: 'vcpu', label: 'vCPU 1', cpus: [1] }] });
});

test('planTuning() rejects a pin to an offline CPU, naming the vCPU and the CPU', async () => {
  const host = await topo('offline-cpu');
  const spec = domain({ vcpuPins: [{ vcpu: 1, cpus: [2, 3] }] });
  assert.deepEqual(problemsOf(() => planTuning(spec, threads, host)), [
    'tuning.vcpuPins[0].cpus: vCPU 1 is pinned to host CPU 3, which is offline (online CPUs: 0-2); bring it online or pin elsewhere',
  ]);
});

test('planTuning() rejects pins to CPUs, vCPUs and iothreads that do not exist, all at once', async () => {
  const spec = domain(
    {
      vcpuPins: [
        { vcpu: 0, cpus: [1] },
        { vcpu: 2, cpus: [7] },
      ],
      emulatorPin: [9],
      iothreadPins: [{ iothread: 'io9', cpus: [0] }],
    },
    { iothreads: ['io0'] },
  );
  assert.deepEqual(problemsOf(() => planTuning(spec, threads, host2)), [
    'tuning.vcpuPins[1].vcpu: vCPU 2 does not exist: the VM has 2 vCPUs',
    'tuning.vcpuPins[1].cpus: vCPU 2 is pinned to host CPU 7, which does not exist (this host has CPUs 0-1)',
    'tuning.emulatorPin: the emulator is pinned to host CPU 9, which does not exist (this host has CPUs 0-1)',
    "tuning.iothreadPins[0].iothread: iothread 'io9' is not defined; define it in iothreads or remove the pin",
  ]);
});

test('planTuning() rejects deadline, out-of-range and misplaced priorities', () => {
  const spec = domain({
    vcpuPins: [{ vcpu: 0, cpus: [1] }],
    vcpuSched: { policy: 'fifo', priority: 100 },
    emulatorSched: { policy: 'deadline' },
    iothreadSched: { policy: 'batch', priority: 5 },
  });
  assert.deepEqual(problemsOf(() => planTuning(spec, threads, host2)), [
    "tuning.vcpuSched.priority: priority 100 is out of range for 'fifo'",
    "tuning.emulatorSched.policy: scheduler 'deadline' is not supported (it needs runtime, deadline and period parameters); use fifo or rr with a priority",
    "tuning.iothreadSched.priority: a priority applies only to the fifo and rr schedulers, not 'batch'; remove it",
  ]);
  assert.deepEqual(problemsOf(() => planTuning(domain({ vcpuSched: { policy: 'rr' } }), threads, host2)), [
    "tuning.vcpuSched.priority: scheduler 'rr' needs a priority",
  ]);
});

test('planTuning() rejects pins of vCPUs and iothreads that QEMU did not report', () => {
  const spec = domain({ vcpuPins: [{ vcpu: 1, cpus: [1] }], iothreadPins: [{ iothread: 'io0', cpus: [1] }] }, { iothreads: ['io0'] });
  const few: QemuThreads = { vcpus: [{ index: 0, tid: 1001 }], iothreads: [], all: [1000, 1001] };
  assert.deepEqual(problemsOf(() => planTuning(spec, few, host2)), [
    'tuning.vcpuPins[0].vcpu: vCPU 1 is pinned but QEMU reported no thread for it (it reported vCPUs 0)',
    "tuning.iothreadPins[0].iothread: iothread 'io0' is pinned but QEMU reported no such iothread (it reported none)",
  ]);
});

test('planTuning() with pinning auto places vCPUs from the topology and avoids CPUs pinned by others', async () => {
  const host = await topo('two-socket-smt2');
  const spec = domain({ autoPin: true, vcpuSched: { policy: 'rr', priority: 5 } }, { cpu: cpuSpec(2, { cores: 1, threads: 2 }) });
  const plan = planTuning(spec, threads, host, { exclude: [1, 17] });
  assert.deepEqual(plan.threads, [
    // node 1 now has more usable CPUs than node 0, and its first core is a sibling pair
    { tid: 1001, role: 'vcpu', label: 'vCPU 0', cpus: [8], sched: { policy: 'rr', priority: 5 } },
    { tid: 1002, role: 'vcpu', label: 'vCPU 1', cpus: [24], sched: { policy: 'rr', priority: 5 } },
  ]);
  assert.deepEqual(
    problemsOf(() => planTuning(domain({ autoPin: true, vcpuPins: [{ vcpu: 0, cpus: [1] }] }), threads, host)),
    ['tuning.vcpuPins: automatic pinning and explicit vCPU pins exclude each other; remove one'],
  );
});

test('planTuning() with isolation puts unpinned threads on the isolated CPUs and keeps a CPU for the host', async () => {
  const host = await topo('offline-cpu');
  const spec = domain({ isolate: true, vcpuPins: [{ vcpu: 0, cpus: [1] }], emulatorPin: [2] });
  const plan = planTuning(spec, threads, host);
  assert.deepEqual(plan.isolate, { cpus: [1, 2] });
  assert.deepEqual(
    plan.threads.map((a) => [a.label, a.cpus]),
    [
      ['vCPU 0', [1]],
      ['vCPU 1', [1, 2]],
      ['iothread io0', [1, 2]],
      ['emulator tid 1000', [2]],
      ['emulator tid 1004', [2]],
    ],
  );
  assert.match(describePlan(plan), /isolate: cpuset cgroup with CPUs 1-2$/);
  assert.deepEqual(problemsOf(() => planTuning(domain({ isolate: true, vcpuPins: [{ vcpu: 0, cpus: [0, 1, 2] }] }), threads, host)), [
    "tuning.isolate: isolating CPUs 0-2 would leave no CPU for the host's other tasks; pin the VM's threads to fewer CPUs",
  ]);
  assert.deepEqual(problemsOf(() => planTuning(domain({ isolate: true }), threads, host)), [
    'tuning.isolate: isolation shields pinned CPUs, but nothing is pinned; pin vCPUs (or use automatic pinning) or turn isolation off',
  ]);
});

test('implied isolation (qemu-launcher vcpu_pinning) that would leave the host no CPU degrades to pins without the shield, with a warning; asked-for isolation stays an error', () => {
  // A 2-CPU host, vCPU 0 -> CPU 1 and vCPU 1 -> CPU 0: every host CPU is pinned.
  const pins = [
    { vcpu: 0, cpus: [1] },
    { vcpu: 1, cpus: [0] },
  ];
  const implied = domain({ isolate: true, isolateImplied: true, vcpuPins: pins }, { source: { format: 'qemu-launcher', file: 'l.yml' } });
  assert.deepEqual(validateTuning(implied, host2), []);
  const warnings = tuningWarnings(implied, host2);
  assert.deepEqual(warnings.map((w) => [w.path, w.found]), [['tuning.isolate', '0-1']]);
  assert.match(warnings[0]?.message ?? '', /^vcpu_pinning pins every online CPU of this host \(0-1\); qemu-launcher would also shield them with cpuset isolation, which would leave the host no CPU for its other tasks: the vCPUs are pinned without isolation$/);
  const plan = planTuning(implied, threads, host2);
  assert.equal(plan.isolate, undefined, 'no cpuset isolation');
  assert.deepEqual(plan.threads.filter((a) => a.role === 'vcpu').map((a) => [a.label, a.cpus]), [
    ['vCPU 0', [1]],
    ['vCPU 1', [0]],
  ]);
  assert.doesNotMatch(describePlan(plan), /isolate/);
  // Asked for: the same pins are refused.
  const asked = domain({ isolate: true, vcpuPins: pins });
  assert.deepEqual(problemsOf(() => planTuning(asked, threads, host2)), [
    "tuning.isolate: isolating CPUs 0-1 would leave no CPU for the host's other tasks; pin the VM's threads to fewer CPUs",
  ]);
  assert.deepEqual(tuningWarnings(asked, host2), []);
  // Implied isolation that leaves the host a CPU is kept, without a warning.
  const one = domain({ isolate: true, isolateImplied: true, vcpuPins: [{ vcpu: 0, cpus: [1] }] }, { source: { format: 'qemu-launcher' } });
  assert.deepEqual(planTuning(one, threads, host2).isolate, { cpus: [1] });
  assert.deepEqual(tuningWarnings(one, host2), []);
});

test('validateTuning() reports memlock and real-time priorities beyond what the process may set', () => {
  const spec = domain({ rlimitMemlock: 'unlimited', vcpuSched: { policy: 'fifo', priority: 50 } });
  const limits = { memlockHard: 8 << 20, rtprioSoft: 0, capSysNice: false, capSysResource: false };
  assert.deepEqual(
    validateTuning(spec, host2, { limits }).map((p) => p.message),
    [
      'real-time priority 50 needs CAP_SYS_NICE (run vmkit as root) or RLIMIT_RTPRIO >= 50; this process may use up to 0',
      "memlock limit unlimited is beyond what this process may set (its hard limit is 8388608 bytes and it lacks CAP_SYS_RESOURCE); run vmkit as root or raise its hard limit",
    ],
  );
  assert.deepEqual(validateTuning(spec, host2, { limits: { ...limits, capSysNice: true, capSysResource: true } }), []);
  assert.deepEqual(validateTuning(domain({ rlimitMemlock: 4 << 20 }), host2, { limits }), [], 'below the hard limit is fine');
});

test('needsTuning() is false for an untuned spec and true for any tuning field', () => {
  assert.equal(needsTuning(domain({})), false);
  assert.equal(needsTuning(domain({ debug: true })), false);
  assert.equal(needsTuning(domain({ autoPin: true })), true);
  assert.equal(needsTuning(domain({ rlimitMemlock: 1 << 20 })), true);
  assert.equal(needsTuning(domain({ emulatorSched: { policy: 'batch' } })), true);
  assert.equal(needsTuning(domain({ isolate: true })), true);
});

test('describePlan() writes byte sizes readably and says when there is nothing to do', () => {
  assert.equal(describePlan({ threads: [], rlimitMemlock: 512 << 20 }), 'rlimit memlock: 512 MiB (536870912 bytes)');
  assert.equal(describePlan({ threads: [] }), 'no tuning');
});
