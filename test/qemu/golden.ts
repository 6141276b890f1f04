/** Golden files for argv cases: read from the source tree (not dist/), rewritten with UPDATE_GOLDEN=1. */

import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/test/qemu/golden.js → the repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const ARGV_GOLDEN_DIR = join(REPO_ROOT, 'test', 'golden', 'argv');
export const UPDATING = process.env['UPDATE_GOLDEN'] === '1';

export function goldenPath(name: string): string {
  return join(ARGV_GOLDEN_DIR, `${name}.args`);
}

/** The golden text for `name`, or (UPDATE_GOLDEN=1) writes `actual` as the new golden and returns it. */
export function readGolden(name: string, actual: string): string {
  const path = goldenPath(name);
  if (UPDATING) {
    mkdirSync(ARGV_GOLDEN_DIR, { recursive: true });
    writeFileSync(path, actual);
    return actual;
  }
  if (!existsSync(path)) {
    throw new Error(`Golden file ${path} is missing: run the tests with UPDATE_GOLDEN=1 to create it, then review it`);
  }
  return readFileSync(path, 'utf8');
}

export function goldenNames(): string[] {
  if (!existsSync(ARGV_GOLDEN_DIR)) return [];
  return readdirSync(ARGV_GOLDEN_DIR)
    .filter((f) => f.endsWith('.args'))
    .map((f) => f.slice(0, -'.args'.length));
}
