/** Shared helpers for the config tests: fixture loading and compact problem rendering. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Problem } from '../../src/errors.js';

/** test/fixtures/config in the source tree (tests run from dist/test/config). */
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/config/', import.meta.url));

export function fixture(name: string): { text: string; file: string; baseDir: string } {
  const file = join(FIXTURES, name);
  return { text: readFileSync(file, 'utf8'), file, baseDir: dirname(file) };
}

/** `line:col path` of a problem, the part tests pin exactly. */
export function where(p: Problem): string {
  return `${p.line ?? '?'}:${p.col ?? '?'} ${p.path}`;
}
