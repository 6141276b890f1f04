import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkSpec, firstDifference } from '../../src/config/check-spec.js';
import { parseDefinition } from '../../src/config/index.js';
import { ConfigError, isVmkitError } from '../../src/errors.js';
import type { DomainSpec } from '../../src/model/domain.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** Every definition in the repository's fixtures and examples that parses. */
function validDefinitions(): { file: string; spec: DomainSpec }[] {
  const out: { file: string; spec: DomainSpec }[] = [];
  for (const dir of ['test/fixtures/config', 'test/fixtures/libvirt', 'test/fixtures/host', 'examples']) {
    for (const name of readdirSync(join(REPO, dir)).filter((n) => /\.(ya?ml|xml)$/.test(n))) {
      const file = join(REPO, dir, name);
      try {
        out.push({ file, spec: parseDefinition(readFileSync(file, 'utf8'), { file, baseDir: dirname(file) }) });
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
      }
    }
  }
  return out;
}

test('every valid fixture (native, qemu-launcher, libvirt XML) passes checkSpec and comes back as the same spec', () => {
  const defs = validDefinitions();
  assert.ok(defs.length >= 40, `found ${defs.length} definitions`);
  const formats = new Set<string>();
  for (const { file, spec } of defs) {
    const checked = checkSpec(spec);
    formats.add(checked.format);
    assert.equal(firstDifference(checked.spec, spec), undefined, file);
    assert.deepEqual(checked.spec.source, spec.source, file);
    assert.equal(checked.format, spec.rawOptions === undefined ? 'vmkit-yaml' : 'qemu-launcher', file);
    // What is stored parses back into the spec by itself.
    const again = parseDefinition(checked.text, { baseDir: '/', file: `${spec.name}.yml` });
    assert.equal(firstDifference({ ...again, source: 0 }, { ...spec, source: 0 }), undefined, file);
  }
  assert.deepEqual([...formats].sort(), ['qemu-launcher', 'vmkit-yaml']);
});

test('firstDifference() names the first differing field path with both values', () => {
  assert.deepEqual(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] }), { path: 'a[1].b', found: 2, expected: 3 });
  assert.deepEqual(firstDifference({ a: 1 }, { a: 1, b: undefined }), undefined);
  assert.deepEqual(firstDifference({ a: 1 }, { a: 1, c: 'x' }), { path: 'c', found: undefined, expected: 'x' });
  assert.deepEqual(firstDifference([1], [1, 2]), { path: '[1]', found: undefined, expected: 2 });
});

test('checkSpec() refuses a qemu-launcher spec whose structured fields disagree with its raw options', () => {
  const launcher = validDefinitions().find((d) => d.spec.rawOptions !== undefined);
  assert.ok(launcher !== undefined);
  const lying = { ...launcher.spec, memoryMiB: launcher.spec.memoryMiB + 1 };
  assert.throws(() => checkSpec(lying), (e: unknown) => isVmkitError(e) && e.code === 'InvalidArgument' && e.message.startsWith('The spec is inconsistent at memoryMiB'));
});
