/**
 * The daemon's definition parser threads are bounded: a parse past the time limit, or a worker out of
 * memory, refuses that definition with a ConfigError naming the limit; the worker is replaced and the
 * definitions queued behind it are still parsed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParsePool } from '../../src/driver/parse-pool.js';
import { ConfigError } from '../../src/errors.js';
import { manyDisksYaml } from './fixtures.js';

/** A definition that costs seconds of CPU to check (tens of thousands of invalid NICs), but is bounded. */
const SLOW = `name: slow\nnics:\n${Array.from({ length: 30_000 }, (_, i) => `  - { type: tapx, model: virtio${i} }`).join('\n')}\n`;

test('a parse past the time limit is refused naming the limit; the worker is replaced and later parses work', { timeout: 120_000 }, async () => {
  const pool = new ParsePool(1, { timeLimitMs: 150 });
  try {
    const slow = pool.parse(SLOW, { file: 'slow.yaml', baseDir: '/' });
    // Queued behind the slow one on the only worker: it must still be parsed, by a new worker.
    const queued = pool.parse(manyDisksYaml('queued'), { baseDir: '/' });
    await assert.rejects(slow, (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.problems.length, 1);
      assert.equal(e.problems[0]?.file, 'slow.yaml');
      assert.match(e.problems[0]?.message ?? '', /^Reading the definition took longer than 150 ms, the most one definition may take; it is too large or too complex/);
      return true;
    });
    assert.equal((await queued).name, 'queued');
    assert.equal((await pool.parse(manyDisksYaml('after'), { baseDir: '/' })).name, 'after');
  } finally {
    await pool.close();
  }
});

test('a worker that runs out of memory refuses that definition naming the limit, and is replaced', { timeout: 120_000 }, async () => {
  const pool = new ParsePool(1, { timeLimitMs: 60_000, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 } });
  try {
    await assert.rejects(pool.parse(SLOW, { baseDir: '/' }), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.problems[0]?.message ?? '', /needed more than the 32 MiB of memory one definition may use/);
      return true;
    });
    assert.equal((await pool.parse(manyDisksYaml('small'), { baseDir: '/' })).name, 'small');
  } finally {
    await pool.close();
  }
});

test('ordinary definitions parse well within the default limits', { timeout: 60_000 }, async () => {
  const pool = new ParsePool(2);
  try {
    const specs = await Promise.all(Array.from({ length: 32 }, (_, i) => pool.parse(manyDisksYaml(`d${i}`), { baseDir: '/' })));
    assert.deepEqual(
      specs.map((s) => s.disks.length),
      Array.from({ length: 32 }, () => 16),
    );
  } finally {
    await pool.close();
  }
});
