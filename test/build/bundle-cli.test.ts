/**
 * bin/vmkit runs the bundle (scripts/bundle.ts: esbuild, re-chunked by rollup), whose schema validators were generated at build
 * time: a shipped vmkit neither loads TypeBox nor compiles a schema. Checked on the bundle's metafile and on
 * real runs that record every module they load.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, tinyYaml } from '../helpers/guest.js';
import { assertBundleFresh, BUNDLE_DIR, bundledInputs, loadedModules, runNode, schemaCompilers, writeLoadRecorder } from './helpers.js';

const VMKIT = join(REPO, 'bin/vmkit');
const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

describe('the bundled CLI', () => {
  let base: string;
  before(async () => {
    assertBundleFresh();
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-bundle-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  /** Runs bin/vmkit recording the modules it loads. */
  async function recorded(name: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; loaded: string[] }> {
    const dir = join(base, name);
    mkdirSync(dir);
    const log = join(dir, 'loaded.txt');
    const preload = writeLoadRecorder(dir, log);
    const r = await runNode(['--import', preload, VMKIT, ...args]);
    return { ...r, loaded: loadedModules(log) };
  }

  /**
   * A hot command loads the merged groups (scripts/rechunk.ts), not dozens of small chunks: with esbuild's
   * splitting alone, `vmkit list` loaded 29 files and `vmkit run` 60, each costing Node's loader a round.
   */
  function assertFewFiles(own: readonly string[], most: number, groups: readonly string[]): void {
    const files = own.map((u) => u.slice(u.lastIndexOf('/') + 1));
    assert.ok(files.length <= most, `${files.length} bundle files loaded (at most ${most}):\n${files.join('\n')}`);
    for (const g of groups) assert.ok(files.some((f) => f.startsWith(`${g}-`)), `the ${g} group is not among the loaded files:\n${files.join('\n')}`);
  }

  it('holds no schema compiler: neither TypeBox nor ajv\'s compiler is among the bundle\'s inputs', () => {
    const meta = JSON.parse(readFileSync(join(BUNDLE_DIR, 'meta.json'), 'utf8')) as { inputs: Record<string, unknown> };
    const inputs = Object.keys(meta.inputs);
    assert.ok(inputs.some((f) => f.includes('dist/gen/config-validators')), 'the generated validators are in the bundle');
    assert.deepEqual(schemaCompilers(inputs.map((f) => `/${f}`)), []);
    for (const replaced of ['dist/src/config/validators.js', 'dist/src/config/native/schema.js', 'dist/src/api/schemas.js']) {
      assert.ok(!inputs.includes(replaced), `${replaced} is replaced by its generated module`);
    }
  });

  it('prints its version from the bundle, loading neither a dependency nor the command-line parser', async () => {
    const r = await recorded('version', ['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
    // What the loaded bundle files were built from (the bundle's metafile).
    const meta = JSON.parse(readFileSync(join(BUNDLE_DIR, 'meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
    const own = r.loaded.filter((u) => u.includes('/dist/')).map((u) => u.slice(u.indexOf('/dist/') + 1));
    assert.ok(own.length > 0 && own.every((f) => f.startsWith('dist/bundle/')), own.join('\n'));
    const sources = own.flatMap((f) => Object.keys(meta.outputs[f]?.inputs ?? {}));
    assert.ok(sources.includes('dist/src/cli/entry.js'), sources.join('\n'));
    assert.deepEqual(sources.filter((s) => s.includes('node_modules/') || s.endsWith('/cli/main.js')), []);
  });

  it('still lists every command in --help, and refuses an unknown one with a suggestion', async () => {
    const help = await runNode([VMKIT, '--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const verb of ['run', 'argv', 'validate', 'host', 'daemon', 'define', 'list', 'console', 'events']) assert.match(help.stdout, new RegExp(`^  ${verb}\\b`, 'm'), verb);
    const typo = await runNode([VMKIT, 'lsit']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown command 'lsit'[\s\S]*list/);
    const sub = await runNode([VMKIT, 'list', '--help']);
    assert.equal(sub.code, 0);
    assert.match(sub.stdout, /--all/);
  });

  it('validates, prints argv, defines and lists without loading TypeBox, ajv\'s compiler or the tsc output', { timeout: 120_000 }, async () => {
    const yaml = join(base, 'tiny.yaml');
    writeFileSync(yaml, tinyYaml({ name: 'bundled' }));
    const xml = join(REPO, 'test/fixtures/libvirt/problem-many.xml');
    const launcher = join(REPO, 'test/fixtures/config/launcher-readme-fixed.yml');
    const root = `embed://${join(base, 'root')}`;
    const runs = [
      { name: 'validate-native', args: ['validate', '--no-host', yaml], code: 0 },
      { name: 'validate-libvirt', args: ['validate', '--no-host', xml], code: 2 },
      { name: 'validate-launcher', args: ['validate', '--no-host', '--json', launcher], code: 0 },
      { name: 'argv', args: ['argv', yaml], code: 0 },
      { name: 'define', args: ['define', '-c', root, yaml], code: 0 },
      { name: 'list', args: ['list', '--all', '--json', '-c', root], code: 0 },
    ];
    for (const run of runs) {
      const r = await recorded(run.name, run.args);
      assert.equal(r.code, run.code, `${run.name}: ${r.stderr}`);
      assert.deepEqual(schemaCompilers(r.loaded), [], `${run.name} loaded a schema compiler`);
      const own = r.loaded.filter((u) => u.startsWith(`file://${REPO}/dist/`));
      assert.ok(own.length > 1 && own.every((u) => u.includes('/dist/bundle/')), `${run.name} ran the bundle only:\n${own.join('\n')}`);
      if (run.name === 'list') assertFewFiles(own, 6, ['cli', 'domains']);
    }
    const list = await runNode([VMKIT, 'list', '--all', '--json', '-c', root]);
    assert.deepEqual((JSON.parse(list.stdout) as { name: string }[]).map((d) => d.name), ['bundled']);
  });

  it('runs the tiny guest (TCG) to power-off from the bundle, with no store writer thread for its throw-away root', { timeout: 120_000 }, async () => {
    const yaml = join(base, 'run.yaml');
    writeFileSync(yaml, tinyYaml({ name: 'bundled-run', action: 'poweroff' }));
    const r = await recorded('run', ['run', '--timeout', '60', yaml]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /started 'bundled-run'.*accel tcg/);
    assert.deepEqual(schemaCompilers(r.loaded), []);
    const own = r.loaded.filter((u) => u.startsWith(`file://${REPO}/dist/`));
    assert.ok(own.every((u) => u.includes('/dist/bundle/')), own.join('\n'));
    assertFewFiles(own, 8, ['cli', 'domains', 'launch']);
    // The run's private root is removed when the run ends: its store needs no durable writes (no fsync,
    // so no writer thread starting between vmkit's exec and QEMU's).
    assert.ok(!own.some((u) => u.endsWith('/store-writer-thread.js')), 'the store writer thread was started');
    // A valid native definition is read by the fast YAML reader: neither the full YAML library, the XML
    // reader nor the positions locator (loaded only to place a problem) is loaded.
    const inputs = bundledInputs(r.loaded);
    assert.ok(inputs.some((i) => i.endsWith('src/cli/commands/run.js')), `the run command's chunk is not among the loaded ones:\n${inputs.join('\n')}`);
    const unwanted = inputs.filter((i) => /node_modules\/(yaml|saxes)\/|\/locate-spec\.js$|\/libvirt\/parse-libvirt\.js$/.test(i));
    assert.deepEqual(unwanted, []);
  });

  it('bin/vmkit runs the tsc output instead of a bundle older than it (a tsc-only rebuild)', async () => {
    // A copy of bin/vmkit over a fake dist/: each entry says which one ran.
    const fake = join(base, 'fake');
    for (const d of ['bin', 'dist/bundle', 'dist/src/cli']) mkdirSync(join(fake, d), { recursive: true });
    copyFileSync(VMKIT, join(fake, 'bin/vmkit'));
    writeFileSync(join(fake, 'package.json'), '{"type":"module"}');
    const entry = (what: string): string => `export async function main() { process.stdout.write('${what}\\n'); return 0; }\n`;
    writeFileSync(join(fake, 'dist/bundle/cli.js'), entry('bundle'));
    writeFileSync(join(fake, 'dist/src/cli/entry.js'), entry('tsc'));
    const at = (file: string, s: number): void => utimesSync(join(fake, file), s, s);
    at('dist/src/cli/entry.js', 1_000_000);
    at('dist/bundle/cli.js', 2_000_000);
    assert.equal((await runNode([join(fake, 'bin/vmkit')])).stdout, 'bundle\n');
    at('dist/src/cli/entry.js', 3_000_000);
    assert.equal((await runNode([join(fake, 'bin/vmkit')])).stdout, 'tsc\n');
  });
});
