/**
 * The bundle's schema modules are generated at build time (scripts/gen-validators.ts) from the same TypeBox
 * sources the tsc build compiles at run time: they must agree, error for error.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, test } from 'node:test';
import type { ValidateFunction } from 'ajv';
import * as compiledApi from '../../src/api/schemas.js';
import * as compiled from '../../src/config/validators.js';
import * as fast from '../../src/config/fast-validators.js';
import * as nativeSchema from '../../src/config/native/schema.js';
import { REPO } from '../helpers/guest.js';
import { fixtureFiles, mutations, sameVerdicts, yamlValues } from '../helpers/schema-mutations.js';
import { assertBundleFresh, GEN_DIR } from './helpers.js';

type Validators = Record<string, () => ValidateFunction>;

const importGen = async <T>(file: string): Promise<T> => (await import(pathToFileURL(join(GEN_DIR, file)).href)) as T;

/** JSON text of a schema fragment, once per object (errors point into the same few big fragments). */
const texts = new WeakMap<object, string>();
function text(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  let t = texts.get(v);
  if (t === undefined) {
    t = JSON.stringify(v);
    texts.set(v, t);
  }
  return t;
}

/**
 * ajv's errors as data, every field compared; the schema fragments an error points at as JSON text
 * (TypeBox's symbol-keyed markers on the compiled schemas are not part of a verdict).
 */
function verdict(validate: ValidateFunction, value: unknown): unknown {
  const ok = validate(value);
  const errors = (validate.errors ?? []).map((e) => ({ ...e, schema: text(e.schema), parentSchema: text(e.parentSchema), data: JSON.stringify(e.data), params: JSON.stringify(e.params) }));
  return { ok, errors };
}

before(() => assertBundleFresh());

test('generated definition validators give the same errors as ajv compiling the schemas, on every fixture and mutations of each', async () => {
  const generated = await importGen<Validators>('config-validators.mjs');
  const names = Object.keys(compiled as unknown as Validators).sort();
  assert.deepEqual(Object.keys(generated).sort(), names, 'one generated validator per validator of src/config/validators.ts');
  let checked = 0;
  let failing = 0;
  for (const { file, value } of yamlValues()) {
    // Each format's files against its validator (a launcher file is no native definition, and the reverse).
    for (const name of names.filter((n) => (/[/\\]launcher-[^/\\]*$/.test(file) ? n === 'launcherValidator' : n !== 'launcherValidator'))) {
      const mine = (generated[name] as () => ValidateFunction)();
      const theirs = (compiled as unknown as Validators)[name]?.() as ValidateFunction;
      for (const m of mutations(value)) {
        const expected = verdict(theirs, m);
        assert.deepEqual(verdict(mine, m), expected, `${name} on a mutation of ${file}: ${JSON.stringify(m).slice(0, 300)}`);
        checked++;
        if (!(expected as { ok: boolean }).ok) failing++;
      }
    }
  }
  // The comparison covered many inputs, most of them invalid: it compared error lists, not only `true`.
  assert.ok(checked > 3000 && failing > checked / 2, `${checked} inputs, ${failing} invalid`);
});

test('the generated validity-only native validator accepts exactly what the full one does, on every fixture and mutations of each', async () => {
  const generated = await importGen<Validators>('config-fast-validators.mjs');
  assert.deepEqual(Object.keys(generated).sort(), Object.keys(fast).sort(), 'one generated validator per validator of src/config/fast-validators.ts');
  const { checked, valid } = sameVerdicts((generated['nativeAccepts'] as () => ValidateFunction)(), compiled.nativeValidator());
  assert.ok(checked > 3000 && valid > 50 && valid < checked / 2, `${checked} inputs, ${valid} valid`);
});

test('the bundled library reports the same problems as the tsc build for every definition fixture', async () => {
  const bundled = (await import(pathToFileURL(join(REPO, 'dist/bundle/index.js')).href)) as typeof import('../../src/index.js');
  const tsc = await import('../../src/index.js');
  const files = fixtureFiles(/\.(ya?ml|xml)$/);
  assert.ok(files.length > 30);
  let withProblems = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const opts = { file, baseDir: '/defs' };
    const expected = tsc.validateDefinition(text, opts);
    assert.deepEqual(bundled.validateDefinition(text, opts), expected, file);
    if (expected.length > 0) withProblems++;
  }
  assert.ok(withProblems >= 4, `${withProblems} fixtures with problems`);
});

test('generated request-body validators accept and refuse what the compiled API schemas do, with the same message', async () => {
  const gen = await importGen<typeof compiledApi>('api-schemas.mjs');
  const bodies: [keyof typeof compiledApi, unknown][] = [
    ['DefineBody', { text: 'name: a' }],
    ['DefineBody', {}],
    ['DefineBody', { text: 1, autostart: 'yes', extra: true, policies: { onPoweroff: 'explode', bogus: 1 } }],
    ['DefineManyBody', { definitions: [] }],
    ['DefineManyBody', { definitions: [{ text: 'a' }, { file: 3 }] }],
    ['StartBody', { paused: true, timeoutMs: 0 }],
    ['StartBody', { timeoutMs: 1.5 }],
    ['ShutdownBody', { timeoutMs: -1 }],
    ['DestroyBody', { graceMs: 'soon' }],
    ['EmptyBody', { x: 1 }],
    ['EmptyBody', {}],
    ['UpdateBody', { autostart: true, policies: { onReboot: 'preserve' } }],
    ['UpdateBody', null],
  ];
  const outcome = (v: typeof compiledApi.validateBody, schema: unknown, body: unknown): unknown => {
    try {
      return { ok: v(schema as never, body) };
    } catch (e) {
      return { error: (e as Error).message, details: (e as { details?: unknown }).details };
    }
  };
  let refused = 0;
  for (const [name, body] of bodies) {
    const expected = outcome(compiledApi.validateBody, compiledApi[name], body);
    assert.deepEqual(outcome(gen.validateBody, gen[name], body), expected, `${String(name)} ${JSON.stringify(body)}`);
    if ('error' in (expected as object)) refused++;
  }
  assert.ok(refused >= 9);
  // Every schema the daemon validates bodies with has its generated validator.
  for (const name of Object.keys(compiledApi).filter((n) => n.endsWith('Body') && n !== 'validateBody')) {
    assert.doesNotThrow(() => outcome(gen.validateBody, gen[name as keyof typeof gen], {}), name);
    assert.deepEqual(JSON.parse(JSON.stringify(gen[name as keyof typeof gen])), JSON.parse(JSON.stringify(compiledApi[name as keyof typeof compiledApi])), name);
  }
});

test('the generated native schema module carries every data export of schema.ts and the same JSON Schema text', async () => {
  const gen = await importGen<typeof nativeSchema>('native-schema.mjs');
  assert.equal(gen.domainJsonSchemaText(), nativeSchema.domainJsonSchemaText());
  assert.deepEqual(gen.domainJsonSchema(), nativeSchema.domainJsonSchema());
  for (const [name, value] of Object.entries(nativeSchema)) {
    if (typeof value === 'function') continue;
    assert.deepEqual(JSON.parse(JSON.stringify((gen as Record<string, unknown>)[name])), JSON.parse(JSON.stringify(value)), name);
  }
});
