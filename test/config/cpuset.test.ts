import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCpuSet, parseCpuSet } from '../../src/config/index.js';
import { isVmkitError } from '../../src/errors.js';

test('parseCpuSet() reads numbers, ranges and ^ exclusions into a sorted unique list', () => {
  assert.deepEqual(parseCpuSet('1-4,^2,8'), [1, 3, 4, 8]);
  assert.deepEqual(parseCpuSet('5'), [5]);
  assert.deepEqual(parseCpuSet('3,1,1-2'), [1, 2, 3]);
  assert.deepEqual(parseCpuSet(' 0 , 2-3 '), [0, 2, 3]);
  assert.deepEqual(parseCpuSet('0-7,^2-5'), [0, 1, 6, 7]);
});

test('parseCpuSet() applies exclusions after inclusions whatever their order', () => {
  assert.deepEqual(parseCpuSet('^2,1-4'), [1, 3, 4]);
});

test('parseCpuSet() rejects bad syntax, reversed ranges, empty results and huge numbers', () => {
  for (const bad of ['', ' ', 'a', '1-', '-1', '4-2', '1,^1', ',1', '1,,2', '1;2', '^', '0-9000', '1.5']) {
    assert.throws(
      () => parseCpuSet(bad),
      (e: unknown) => isVmkitError(e) && e.code === 'InvalidArgument' && e.message.includes(JSON.stringify(bad)),
      `expected ${JSON.stringify(bad)} to be rejected`,
    );
  }
});

test('formatCpuSet() writes the compact form that parseCpuSet() reads back', () => {
  assert.equal(formatCpuSet([0, 1, 2, 5, 7, 8]), '0-2,5,7-8');
  assert.deepEqual(parseCpuSet(formatCpuSet([0, 1, 2, 5, 7, 8])), [0, 1, 2, 5, 7, 8]);
});
