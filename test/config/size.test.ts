import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSize, parseSize } from '../../src/config/index.js';
import { isVmkitError } from '../../src/errors.js';

const M = 1024 * 1024;

test('parseSize() reads binary units with optional iB/B suffixes, any case', () => {
  assert.equal(parseSize('256M'), 256 * M);
  assert.equal(parseSize('2G'), 2048 * M);
  assert.equal(parseSize('512MiB'), 512 * M);
  assert.equal(parseSize('1KB'), 1024);
  assert.equal(parseSize('2 GiB'), 2048 * M);
  assert.equal(parseSize('2g'), 2048 * M);
  assert.equal(parseSize('100B'), 100);
  assert.equal(parseSize('1.5G'), 1536 * M);
  assert.equal(parseSize('1T'), 1024 * 1024 * M);
});

test('parseSize() takes bare numbers in the default unit (bytes unless given)', () => {
  assert.equal(parseSize(1024), 1024);
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('4096', 'M'), 4096 * M);
  assert.equal(parseSize(2, 'G'), 2048 * M);
  assert.equal(parseSize(3, 'K'), 3072);
});

test('parseSize() rejects garbage, negatives, fractions of a byte and unsafe sizes', () => {
  for (const bad of ['', 'abc', '-1M', '1.1K', '5X', 'M', '1 2M', '16E', Number.NaN, -4, 0.5]) {
    assert.throws(
      () => parseSize(bad),
      (e: unknown) => isVmkitError(e) && e.code === 'InvalidArgument' && e.message.startsWith('Cannot parse size'),
      `expected ${String(bad)} to be rejected`,
    );
  }
});

test('formatSize() uses the largest unit that divides exactly', () => {
  assert.equal(formatSize(2048 * M), '2G');
  assert.equal(formatSize(1536 * M), '1536M');
  assert.equal(formatSize(1536), '1536B');
  assert.equal(formatSize(4096), '4K');
});
