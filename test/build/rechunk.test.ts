/**
 * The bundle's re-chunking (scripts/rechunk.ts): which of esbuild's chunks each group takes, on small
 * metafiles written for the case. The real bundle's result is checked by bundle-cli.test.ts (how many files
 * the hot commands load).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metafile } from 'esbuild';
import { assignChunks } from '../../scripts/rechunk.js';

const CWD = '/repo';
type Out = { inputs?: string[]; imports?: string[]; lazy?: string[]; entryPoint?: string };

/** A metafile of outputs `dist/bundle/<name>.js`, each with source inputs, static and dynamic imports. */
function meta(outs: Record<string, Out>): Metafile {
  const outputs: Metafile['outputs'] = {};
  for (const [name, o] of Object.entries(outs)) {
    outputs[`dist/bundle/${name}.js`] = {
      bytes: 1,
      inputs: Object.fromEntries((o.inputs ?? []).map((i) => [i, { bytesInOutput: 1 }])),
      imports: [
        ...(o.imports ?? []).map((p) => ({ path: `dist/bundle/${p}.js`, kind: 'import-statement' as const })),
        ...(o.lazy ?? []).map((p) => ({ path: `dist/bundle/${p}.js`, kind: 'dynamic-import' as const })),
        { path: 'node:fs', kind: 'import-statement' as const, external: true },
      ],
      exports: [],
      ...(o.entryPoint === undefined ? {} : { entryPoint: o.entryPoint }),
    };
  }
  return { inputs: {}, outputs };
}

const abs = (name: string): string => `${CWD}/dist/bundle/${name}.js`;
const entries = [abs('cli'), abs('index')];

// cli.js loads `version` statically and main lazily; main loads `list` lazily; list (an import target,
// reached through its entry chunk) uses a shared helper and the driver, which loads `rare` lazily. The
// library entry imports the driver statically.
const m = meta({
  cli: { inputs: ['src/cli/entry.js'], imports: ['version'], lazy: ['main'], entryPoint: 'src/cli/entry.js' },
  index: { inputs: ['src/index.js'], imports: ['driver'], entryPoint: 'src/index.js' },
  version: { inputs: ['src/cli/version.js'] },
  main: { inputs: ['src/cli/main.js', 'node_modules/commander/index.js'], imports: ['version', 'helpers'], lazy: ['list-entry'], entryPoint: 'src/cli/main.js' },
  'list-entry': { imports: ['list', 'helpers'], entryPoint: 'src/cli/commands/list.js' },
  list: { inputs: ['src/cli/commands/list.js'], imports: ['driver', 'helpers'] },
  helpers: { inputs: ['src/util/helpers.js'] },
  driver: { inputs: ['src/driver/connection.js'], lazy: ['rare'] },
  rare: { inputs: ['src/driver/rare.js'], entryPoint: 'src/driver/rare.js' },
});

test('a group takes the static closure of its roots, through a root\'s entry chunk, less the light entries\' closure', () => {
  const got = assignChunks(m, CWD, entries, [abs('cli')], [
    { name: 'cli', roots: ['src/cli/main.js'] },
    { name: 'domains', roots: ['src/cli/commands/list.js'] },
  ]);
  // `version` stays its own (cli.js loads it for --version); main takes helpers first; the list entry chunk
  // leads to list and the driver; `rare` (loaded lazily) is in no group; entries are left to rollup.
  assert.deepEqual(Object.fromEntries([...got].sort()), {
    [abs('driver')]: 'group-domains',
    [abs('helpers')]: 'group-cli',
    [abs('list')]: 'group-domains',
    [abs('list-entry')]: 'group-domains',
    [abs('main')]: 'group-cli',
    [abs('rare')]: 'keep-rare',
    [abs('version')]: 'keep-version',
  });
});

test('without light entries a group may take what an entry imports; an earlier group keeps what it took', () => {
  const got = assignChunks(m, CWD, entries, [], [
    { name: 'domains', roots: ['src/cli/commands/list.js'] },
    { name: 'cli', roots: ['src/cli/main.js'] },
  ]);
  assert.equal(got.get(abs('helpers')), 'group-domains');
  assert.equal(got.get(abs('version')), 'group-cli');
  assert.equal(got.get(abs('cli')), undefined);
  assert.equal(got.get(abs('index')), undefined);
});

test('a group root missing from the bundle fails the build, naming the group and the root', () => {
  assert.throws(
    () => assignChunks(m, CWD, entries, [], [{ name: 'launch', roots: ['src/cli/commands/run.js'] }]),
    /chunk group launch: root src\/cli\/commands\/run\.js is not in the bundle.*GROUPS in scripts\/bundle\.ts/,
  );
});
