/**
 * The short form of the fuzzer in `npm test`: every property for a couple of seconds with a fixed seed,
 * then as long with a random seed (printed, so a failure can be replayed with `npm run fuzz`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFuzz } from './run.js';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 1);

for (const [kind, seed] of [
  ['fixed', 20_240_611],
  ['random', Math.floor(Math.random() * 2 ** 31)],
] as const) {
  test(`fuzzing definitions, the argv builder and the daemon (${kind} seed ${seed}) finds no crash, hang, 5xx or leftover`, { timeout: 300_000 }, async (t) => {
    const outcomes = await runFuzz({ seconds: SECONDS, seed, log: (l) => t.diagnostic(l) });
    assert.ok(outcomes.length >= 10, `only ${outcomes.length} properties ran`);
    for (const o of outcomes) assert.ok(o.runs > 0, `${o.name} never ran`);
    const failures = outcomes.filter((o) => o.failure !== undefined);
    assert.deepEqual(
      failures.map((f) => `${f.name}:\n${f.failure ?? ''}`),
      [],
    );
  });
}
