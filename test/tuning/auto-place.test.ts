import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readHostTopology, type HostTopology } from '../../src/host/topology.js';
import { autoPlace } from '../../src/tuning/plan.js';
import { cpuSpec, sysfsFixture } from './spec.js';

const big = (): Promise<HostTopology> => readHostTopology({ sysRoot: sysfsFixture('two-socket-smt2') });
const cpusOf = (p: { cpus: number[] }[]): number[] => p.map((x) => x.cpus[0]!);

test('autoPlace() gives guest SMT sibling pairs host sibling pairs on one NUMA node, avoiding CPU 0', async () => {
  const topo = await big();
  const placed = autoPlace(cpuSpec(4, { cores: 2, threads: 2 }), topo);
  assert.deepEqual(placed, [
    { vcpu: 0, cpus: [1] },
    { vcpu: 1, cpus: [17] },
    { vcpu: 2, cpus: [2] },
    { vcpu: 3, cpus: [18] },
  ]);
  for (const pair of [[0, 1], [2, 3]] as const) {
    const a = topo.cpus[placed[pair[0]]!.cpus[0]!]!;
    assert.deepEqual(a.siblings, [placed[pair[0]]!.cpus[0], placed[pair[1]]!.cpus[0]], 'guest core on one host core');
  }
  assert.equal(new Set(placed.map((p) => topo.cpus[p.cpus[0]!]!.node)).size, 1, 'one NUMA node');
});

test('autoPlace() gives a guest without SMT distinct host cores before second siblings', async () => {
  assert.deepEqual(cpusOf(autoPlace(cpuSpec(4), await big())), [1, 2, 3, 4]);
  // 8 vCPUs: node 0 has 7 cores besides CPU 0's, so the eighth takes a second sibling there.
  assert.deepEqual(cpusOf(autoPlace(cpuSpec(8), await big())), [1, 2, 3, 4, 5, 6, 7, 17]);
});

test('autoPlace() avoids CPU 0 and its sibling, using them only when nothing else fits', async () => {
  const two = await readHostTopology({ sysRoot: sysfsFixture('two-cpu') });
  assert.deepEqual(cpusOf(autoPlace(cpuSpec(1), two)), [1]);
  assert.deepEqual(cpusOf(autoPlace(cpuSpec(2), two)), [0, 1]);
  const amd = await readHostTopology({ sysRoot: sysfsFixture('smt2-no-numa') });
  assert.deepEqual(cpusOf(autoPlace(cpuSpec(4, { cores: 2, threads: 2 }), amd)), [2, 3, 4, 5]);
  assert.deepEqual(cpusOf(autoPlace(cpuSpec(8, { cores: 4, threads: 2 }), amd)), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('autoPlace() excludes CPUs pinned by other VMs and moves to the emptier NUMA node', async () => {
  const topo = await big();
  const exclude = [1, 2, 3, 17, 18, 19];
  const placed = autoPlace(cpuSpec(4, { cores: 2, threads: 2 }), topo, { exclude });
  assert.deepEqual(cpusOf(placed), [8, 24, 9, 25], 'node 1 has more usable CPUs now; its core 0 is not CPU 0');
  assert.ok(cpusOf(placed).every((c) => !exclude.includes(c)));
});

test('autoPlace() skips offline CPUs', async () => {
  const topo = await readHostTopology({ sysRoot: sysfsFixture('offline-cpu') });
  assert.deepEqual(cpusOf(autoPlace(cpuSpec(2), topo)), [1, 2]);
  assert.deepEqual(cpusOf(autoPlace(cpuSpec(3), topo)), [0, 1, 2]);
  assert.throws(() => autoPlace(cpuSpec(4), topo), /Cannot place 4 vCPUs .*3 usable CPUs \(0-2\)/);
});

test('autoPlace() spans NUMA nodes only when one node cannot hold the VM', async () => {
  const placed = cpusOf(autoPlace(cpuSpec(20), await big()));
  assert.equal(placed.length, 20);
  assert.equal(new Set(placed).size, 20);
  assert.ok(!placed.includes(0) && !placed.includes(16), 'CPU 0 and its sibling stay free');
});

test('autoPlace() fails with InvalidArgument saying how many CPUs and sibling pairs are usable', async () => {
  const topo = await big();
  assert.throws(() => autoPlace(cpuSpec(40), topo), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'InvalidArgument');
    assert.match(e.message, /Cannot place 40 vCPUs .* the host has 32 usable CPUs \(0-31\)/);
    return true;
  });
  const exclude = [...Array(32).keys()].filter((c) => c % 16 !== 5); // leaves 5 and 21: one sibling pair
  assert.deepEqual(cpusOf(autoPlace(cpuSpec(2, { cores: 1, threads: 2 }), topo, { exclude })), [5, 21]);
  assert.throws(
    () => autoPlace(cpuSpec(4, { cores: 2, threads: 2 }), topo, { exclude }),
    /4 vCPUs \(1 socket\(s\) x 2 core\(s\) x 2 thread\(s\)\).*2 usable CPUs \(5,21\), 1 host cores with 2 free SMT siblings; CPUs .* are pinned by other VMs/,
  );
});
