import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { domainJsonSchema } from '../../src/config/index.js';
import { domainJsonSchemaText } from '../../src/config/native/schema.js';
import { PATTERNS } from '../../src/config/patterns.js';
import { FIXTURES } from './helpers.js';

const SCHEMA_FILE = fileURLToPath(new URL('../../../schema/vmkit-domain.schema.json', import.meta.url));

test('the committed schema/vmkit-domain.schema.json equals the one generated from the TypeBox source', () => {
  assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), domainJsonSchemaText(), 'run `npm run build && npm run schema` and commit the result');
});

test('the JSON Schema names itself and describes every field for editors', () => {
  const schema = domainJsonSchema();
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.equal(typeof schema.$id, 'string');
  assert.equal(schema.title, 'vmkit domain definition');
  const undocumented: string[] = [];
  const walk = (s: unknown, path: string): void => {
    if (s === null || typeof s !== 'object') return;
    const o = s as Record<string, unknown>;
    for (const [key, sub] of Object.entries((o.properties ?? {}) as Record<string, unknown>)) {
      if (typeof (sub as { description?: unknown }).description !== 'string') undocumented.push(`${path}.${key}`);
      walk(sub, `${path}.${key}`);
    }
    for (const k of ['items', 'additionalProperties']) if (typeof o[k] === 'object') walk(o[k], `${path}[]`);
    for (const sub of Object.values((o.patternProperties ?? {}) as Record<string, unknown>)) walk(sub, `${path}{}`);
    for (const sub of (o.anyOf ?? []) as unknown[]) walk(sub, path);
  };
  walk(schema, '');
  assert.deepEqual(undocumented, []);
});

test('the committed schema file alone accepts the valid fixtures and rejects unknown keys', () => {
  const ajv = new Ajv({ allErrors: true });
  const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
  const valid = readdirSync(FIXTURES).filter((f) => /^native-(minimal|full|kernel)\.yaml$/.test(f));
  assert.equal(valid.length, 3);
  for (const f of valid) {
    assert.equal(validate(parseYaml(readFileSync(`${FIXTURES}/${f}`, 'utf8'))), true, `${f}: ${JSON.stringify(validate.errors)}`);
  }
  assert.equal(validate({ name: 'a', memroy: '1G' }), false);
});

test('value patterns are distinct, so each problem names the right kind of value', () => {
  const sources = Object.values(PATTERNS).map((p) => p.source);
  assert.equal(new Set(sources).size, sources.length);
});
