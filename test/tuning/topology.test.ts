import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readHostTopology } from '../../src/host/topology.js';
import { sysfsFixture } from './spec.js';

test('readHostTopology() reads sockets, cores, SMT siblings and NUMA nodes of a 2-socket SMT2 host', async () => {
  const topo = await readHostTopology({ sysRoot: sysfsFixture('two-socket-smt2') });
  assert.equal(topo.cpus.length, 32);
  assert.deepEqual(topo.nodes, [0, 1]);
  assert.deepEqual(topo.cpus[0], { id: 0, online: true, socket: 0, core: 0, node: 0, siblings: [0, 16] });
  assert.deepEqual(topo.cpus[9], { id: 9, online: true, socket: 1, core: 1, node: 1, siblings: [9, 25] });
  assert.deepEqual(topo.cpus[25], { id: 25, online: true, socket: 1, core: 1, node: 1, siblings: [9, 25] });
  assert.ok(topo.cpus.every((c) => c.online));
});

test('readHostTopology() marks an offline CPU and keeps its NUMA node from the cpuN/nodeM link', async () => {
  const topo = await readHostTopology({ sysRoot: sysfsFixture('offline-cpu') });
  assert.deepEqual(
    topo.cpus.map((c) => [c.id, c.online]),
    [[0, true], [1, true], [2, true], [3, false]],
  );
  assert.deepEqual(topo.cpus[3], { id: 3, online: false, socket: -1, core: -1, node: 0, siblings: [3] });
});

test('readHostTopology() puts every CPU on node 0 when the kernel has no NUMA directory', async () => {
  const topo = await readHostTopology({ sysRoot: sysfsFixture('smt2-no-numa') });
  assert.deepEqual(topo.nodes, [0]);
  assert.deepEqual(topo.cpus.map((c) => c.siblings), [[0, 1], [0, 1], [2, 3], [2, 3], [4, 5], [4, 5], [6, 7], [6, 7]]);
  assert.ok(topo.cpus.every((c) => c.node === 0));
});

test('readHostTopology() reads this machine and agrees with /sys/devices/system/cpu/online', async () => {
  const { readFile } = await import('node:fs/promises');
  const { parseCpuSet } = await import('../../src/util/cpu-set.js');
  const topo = await readHostTopology();
  const online = parseCpuSet(await readFile('/sys/devices/system/cpu/online', 'utf8'));
  assert.deepEqual(topo.cpus.filter((c) => c.online).map((c) => c.id), online);
  assert.ok(topo.cpus.every((c) => c.siblings.includes(c.id)));
});

test('readHostTopology() fails with HostError naming the directory when sysfs is missing', async () => {
  await assert.rejects(readHostTopology({ sysRoot: '/nonexistent-sys' }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'HostError');
    assert.match(e.message, /\/nonexistent-sys\/devices\/system\/cpu does not exist/);
    return true;
  });
});
