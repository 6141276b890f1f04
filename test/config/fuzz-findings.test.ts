/** What the fuzzer (test/fuzz) found, each pinned as a regression test. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDefinition, validateDefinition } from '../../src/config/index.js';
import { readYamlFast } from '../../src/config/yaml-fast.js';
import { readYaml } from '../../src/config/yaml-source.js';
import { ConfigError } from '../../src/errors.js';

const OPTS = { file: 'f.yaml', baseDir: '/nonexistent' };

test('an empty definition is a problem at 1:1 of its file', () => {
  for (const text of ['', '\n', '# only a comment\n']) {
    const ps = validateDefinition(text, OPTS);
    assert.equal(ps.length, 1, text);
    assert.deepEqual([ps[0]?.file, ps[0]?.line, ps[0]?.col], ['f.yaml', 1, 1], text);
  }
});

test('a key more than 1024 characters before its colon is left to the full reader, which refuses it', () => {
  const text = `${'k'.repeat(1100)}: 1\n`;
  assert.equal(readYamlFast(text), undefined);
  assert.match(readYaml(text).problems.list[0]?.message ?? '', /at most 1024 chars/);
  assert.equal(readYamlFast(`name: x\nenv: { ${'K'.repeat(1100)}: v }\n`), undefined);
});

test('a list item that fits no branch of its union is refused, not half-read (an RNG with backend 0 and a list as source)', () => {
  const text = 'name: x\nrngs:\n  - backend: 0\n    source:\n      - /dev/urandom\n  - backend: builtin\n';
  const ps = validateDefinition(text, OPTS);
  assert.deepEqual(
    ps.map((p) => `${p.line}:${p.col} ${p.path} ${p.message}`),
    ['3:14 rngs[0].backend Unsupported value'],
  );
  assert.throws(() => parseDefinition(text, OPTS), ConfigError);
});
