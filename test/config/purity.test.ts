import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const CONFIG_SRC = fileURLToPath(new URL('../../../src/config/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('config parsing modules do no I/O: only the bounded reader (definition-text.ts) and load-definition-file.ts import node:fs', () => {
  const effectful = sources(CONFIG_SRC)
    .filter((f) => /from 'node:(fs|fs\/promises|child_process|net)'/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(CONFIG_SRC, f));
  assert.deepEqual(effectful.sort(), ['definition-text.ts', 'load-definition-file.ts']);
});
