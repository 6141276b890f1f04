import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCpuSet, MAX_CPU, parseCpuSet, subtractCpus, unionCpus } from '../../src/util/cpu-set.js';
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

test('parseCpuSet() reads kernel files (trailing newline; empty only with allowEmpty)', () => {
  assert.deepEqual(parseCpuSet('0-3,8-11\n'), [0, 1, 2, 3, 8, 9, 10, 11]);
  assert.deepEqual(parseCpuSet('', { allowEmpty: true }), []);
  assert.deepEqual(parseCpuSet('\n', { allowEmpty: true }), []);
  assert.deepEqual(parseCpuSet('1,^1', { allowEmpty: true }), []);
  assert.throws(() => parseCpuSet('1-x', { allowEmpty: true }), (e: unknown) => isVmkitError(e) && e.code === 'InvalidArgument' && e.message.includes('"1-x"'));
});

test('one CPU limit for definitions and host files: the kernel maximum, 8191', () => {
  assert.equal(MAX_CPU, 8191);
  assert.deepEqual(parseCpuSet('8191'), [8191]);
  assert.deepEqual(parseCpuSet('8191', { allowEmpty: true }), [8191]);
  for (const opts of [{}, { allowEmpty: true }]) {
    assert.throws(() => parseCpuSet('8192', opts), (e: unknown) => isVmkitError(e) && e.message.includes('beyond the supported maximum 8191'));
  }
});

test('formatCpuSet() sorts and dedupes; unionCpus() and subtractCpus() return sorted sets', () => {
  assert.equal(formatCpuSet([3, 0, 1, 2, 8, 8]), '0-3,8');
  assert.equal(formatCpuSet([]), '');
  assert.equal(formatCpuSet([1, 3, 5, 6]), '1,3,5-6');
  assert.deepEqual(unionCpus([3, 1], [2, 1]), [1, 2, 3]);
  assert.deepEqual(subtractCpus([0, 1, 2, 3], [1, 3]), [0, 2]);
});
