import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCpuList, parseCpuList, subtractCpus, unionCpus } from '../../src/tuning/cpu-list.js';

test('parseCpuList() reads ranges, single CPUs and libvirt exclusions like 1-4,^2', () => {
  assert.deepEqual(parseCpuList('1-4,^2'), [1, 3, 4]);
  assert.deepEqual(parseCpuList('0-3,8-11\n'), [0, 1, 2, 3, 8, 9, 10, 11]);
  assert.deepEqual(parseCpuList('^3,0-5,^1-2'), [0, 4, 5]);
  assert.deepEqual(parseCpuList('7,7,2'), [2, 7]);
  assert.deepEqual(parseCpuList(''), []);
});

test('parseCpuList() rejects malformed parts with InvalidArgument naming the part', () => {
  for (const bad of ['1-x', '4-2', '1,,2', '-3', 'a']) {
    assert.throws(() => parseCpuList(bad), (e: Error & { code?: string }) => e.code === 'InvalidArgument' && e.message.includes(`'${bad}'`), bad);
  }
});

test('formatCpuList() writes the kernel syntax with ranges', () => {
  assert.equal(formatCpuList([3, 0, 1, 2, 8]), '0-3,8');
  assert.equal(formatCpuList([5]), '5');
  assert.equal(formatCpuList([]), '');
  assert.equal(formatCpuList([1, 3, 5, 6]), '1,3,5-6');
});

test('unionCpus() and subtractCpus() return sorted sets', () => {
  assert.deepEqual(unionCpus([3, 1], [2, 1]), [1, 2, 3]);
  assert.deepEqual(subtractCpus([0, 1, 2, 3], [1, 3]), [0, 2]);
});
