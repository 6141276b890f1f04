/**
 * `npm run fuzz`: the long fuzzing campaign. FUZZ_SECONDS per property (default 60), FUZZ_SEED (default
 * random, printed), FUZZ_RUNS (most runs per property), FUZZ_ONLY (properties whose name contains it),
 * FUZZ_PATH (with FUZZ_SEED and FUZZ_ONLY: replays one counterexample). Exits 1 when a property fails.
 * Each property is bounded in time; a hang is caught by the watchdog below, which names the seed.
 */
import { runFuzz } from './run.js';

const seconds = Number(process.env.FUZZ_SECONDS ?? 60);
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const runs = process.env.FUZZ_RUNS !== undefined ? Number(process.env.FUZZ_RUNS) : undefined;
const only = process.env.FUZZ_ONLY;
const path = process.env.FUZZ_PATH;

console.log(`vmkit fuzz: seed ${seed}, ${seconds} s per property${runs === undefined ? '' : `, at most ${runs} runs`}${only === undefined ? '' : `, only "${only}"`}`);
// A property runs for `seconds` and then stops between runs; one run that never returns is a hang.
const watchdog = setTimeout(
  () => {
    console.error(`vmkit fuzz: HANG: no progress for ${seconds + 120} s past a property's budget; replay with FUZZ_SEED=${seed}`);
    process.exit(1);
  },
  (seconds * 12 + 600) * 1000,
);
watchdog.unref();
const outcomes = await runFuzz({ seconds, seed, ...(runs === undefined ? {} : { runs }), ...(only === undefined ? {} : { only }), ...(path === undefined ? {} : { path }), log: (l) => console.log(`  ${l}`) });
const failed = outcomes.filter((o) => o.failure !== undefined);
for (const f of failed) console.error(`\nFAILED: ${f.name}\n${f.failure ?? ''}`);
console.log(`vmkit fuzz: ${outcomes.length - failed.length} passed, ${failed.length} failed (seed ${seed})`);
process.exit(failed.length > 0 ? 1 : 0);
