/**
 * Runs the fuzzer's properties for a time budget each, with a given seed: first the definition properties,
 * then a real daemon (startDaemon on a temporary socket and root) under arbitrary requests and garbage.
 * After the daemon stops, its directory must hold its root and nothing else, and its root only what a root
 * holds. Failures name the seed and path that replay them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { startDaemon } from '../../src/api/daemon.js';
import { daemonProperty, definitionProperties, garbageProperty } from './properties.js';
import { loadSeeds } from './seeds.js';

export interface FuzzOptions {
  /** Time budget of each property, in seconds. */
  readonly seconds: number;
  readonly seed: number;
  /** Most runs of each property (default: as many as the time allows). */
  readonly runs?: number;
  /** Replays one counterexample (with `only` and `seed`). */
  readonly path?: string;
  /** Runs only the properties whose name contains this. */
  readonly only?: string;
  readonly log?: (line: string) => void;
}

export interface FuzzOutcome {
  readonly name: string;
  readonly runs: number;
  /** The failure report (with the replay command); undefined when the property held. */
  readonly failure?: string;
}

function params(opts: FuzzOptions): fc.Parameters<unknown> {
  return {
    seed: opts.seed,
    numRuns: opts.runs ?? 1_000_000,
    interruptAfterTimeLimit: opts.seconds * 1000,
    markInterruptAsFailure: false,
    ...(opts.path === undefined ? {} : { path: opts.path }),
  };
}

function outcome<T>(name: string, details: fc.RunDetails<T>): FuzzOutcome {
  if (!details.failed) return { name, runs: details.numRuns };
  const replay = `FUZZ_ONLY=${JSON.stringify(name)} FUZZ_SEED=${details.seed} FUZZ_PATH=${JSON.stringify(details.counterexamplePath ?? '')} npm run fuzz`;
  const error = details.errorInstance instanceof Error ? (details.errorInstance.stack ?? details.errorInstance.message) : String(details.errorInstance);
  return { name, runs: details.numRuns, failure: `${fc.defaultReportMessage(details) ?? 'failed'}\n${error}\nReplay: ${replay}` };
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzOutcome[]> {
  const seeds = loadSeeds();
  const wanted = (name: string): boolean => opts.only === undefined || name.includes(opts.only);
  const out: FuzzOutcome[] = [];
  for (const [name, prop] of Object.entries(definitionProperties(seeds))) {
    if (!wanted(name)) continue;
    const details = fc.check(prop as fc.IProperty<[string]>, params(opts) as fc.Parameters<[string]>);
    out.push(outcome(name, details));
    opts.log?.(`${name}: ${details.numRuns} runs${details.failed ? ', FAILED' : ''}`);
  }
  const daemonNames = ['daemon answers arbitrary requests', 'daemon survives garbage on its socket'];
  if (!daemonNames.some(wanted)) return out;
  const base = await mkdtemp(join(tmpdir(), 'vmkit-fuzz-'));
  const root = join(base, 'root');
  const socket = join(base, 'd.sock');
  const log: string[] = [];
  const daemon = await startDaemon({ version: 'fuzz', socket, root, noSync: true, autostart: false, parseThreads: 1, parseTimeLimitMs: 2000, log: (l) => log.push(l) });
  try {
    if (wanted(daemonNames[0] as string)) {
      const details = await fc.check(daemonProperty(seeds, socket), params(opts) as fc.Parameters<[{ method: string; target: string; body: string | undefined }]>);
      out.push(outcome(daemonNames[0] as string, details));
      opts.log?.(`${daemonNames[0] as string}: ${details.numRuns} runs${details.failed ? ', FAILED' : ''}`);
    }
    if (wanted(daemonNames[1] as string)) {
      const details = await fc.check(garbageProperty(socket), params(opts) as fc.Parameters<[Uint8Array]>);
      out.push(outcome(daemonNames[1] as string, details));
      opts.log?.(`${daemonNames[1] as string}: ${details.numRuns} runs${details.failed ? ', FAILED' : ''}`);
    }
  } finally {
    await daemon.stop();
  }
  try {
    const internal = log.filter((l) => /internal error/.test(l));
    assert.deepEqual(internal, [], 'the daemon logged internal errors');
    assert.deepEqual(await readdir(base), ['root'], 'the daemon left files beside its root');
    const inRoot = (await readdir(root)).filter((e) => !['domains', 'status', 'run', 'lock', 'lock.key'].includes(e));
    assert.deepEqual(inRoot, [], 'the daemon left unexpected files in its root');
    assert.deepEqual(await readdir(join(root, 'run')).catch(() => []), [], 'a run directory was left (no domain was started)');
  } catch (e) {
    out.push({ name: 'daemon leaves nothing behind', runs: 1, failure: (e as Error).message });
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  return out;
}
