/**
 * Definition values to check validators with: the YAML fixtures' data, and mutations of each (wrong values
 * at every node, unknown keys, removed keys, duplicated items), most of them invalid.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO } from './guest.js';

const FIXTURE_DIRS = ['test/fixtures/config', 'test/fixtures/libvirt'].map((d) => join(REPO, d));

export function fixtureFiles(ext: RegExp): string[] {
  return FIXTURE_DIRS.flatMap((d) => readdirSync(d).filter((f) => ext.test(f)).map((f) => join(d, f))).sort();
}

/** The YAML fixtures' data (files YAML cannot read are left to the whole-parse comparison below). */
export function yamlValues(): { file: string; value: unknown }[] {
  const out: { file: string; value: unknown }[] = [];
  for (const file of fixtureFiles(/\.ya?ml$/)) {
    try {
      out.push({ file, value: parse(readFileSync(file, 'utf8')) as unknown });
    } catch {
      // a syntax-error fixture
    }
  }
  return out;
}

type Path = (string | number)[];

function nodes(v: unknown, path: Path = [], out: { path: Path; node: unknown }[] = []): { path: Path; node: unknown }[] {
  out.push({ path, node: v });
  if (Array.isArray(v)) v.forEach((x, i) => nodes(x, [...path, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) nodes(x, [...path, k], out);
  return out;
}

function setAt(root: unknown, path: Path, f: (old: unknown) => unknown): unknown {
  if (path.length === 0) return f(root);
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  const next = f(at[last]);
  if (next === DELETE) delete at[last];
  else at[last] = next;
  return copy;
}

const DELETE = Symbol('delete');
const REPLACEMENTS: unknown[] = [null, true, -1, 0, 1.5, 70000, 'x', '', 'q36', [], {}, [{}], { bogus: 1 }, ['a', 'a']];

/** The value itself and, at every node, wrong values, an unknown key, each key removed, a duplicated item. */
export function* mutations(value: unknown): Generator<unknown> {
  yield value;
  for (const { path, node } of nodes(value)) {
    for (const r of REPLACEMENTS) yield setAt(value, path, () => r);
    if (Array.isArray(node) && node.length > 0) yield setAt(value, path, (a) => [...(a as unknown[]), (a as unknown[])[0]]);
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      yield setAt(value, path, (o) => ({ ...(o as object), bogus: 1 }));
      for (const k of Object.keys(node)) yield setAt(value, [...path, k], () => DELETE);
    }
  }
}


/**
 * Runs `accepts` and `full` on every native fixture and mutations of each, asserting the same verdict;
 * returns how many inputs were checked and how many were valid.
 */
export function sameVerdicts(accepts: (v: unknown) => boolean, full: (v: unknown) => boolean): { checked: number; valid: number } {
  let checked = 0;
  let valid = 0;
  for (const { file, value } of yamlValues()) {
    if (/[/\\]launcher-[^/\\]*$/.test(file)) continue;
    for (const m of mutations(value)) {
      const expected = full(m);
      assert.equal(accepts(m), expected, `on a mutation of ${file}: ${JSON.stringify(m).slice(0, 300)}`);
      checked++;
      if (expected) valid++;
    }
  }
  return { checked, valid };
}
