/**
 * Reading any text is bounded: nesting past MAX_DEPTH, more than MAX_XML_ELEMENTS elements or
 * MAX_YAML_NODES values give one clear problem with its position (never a RangeError), and at most
 * MAX_PROBLEMS problems are listed, then one that counts the rest.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDefinition, validateDefinition } from '../../src/config/index.js';
import { MAX_DEPTH, MAX_PROBLEMS, MAX_XML_ELEMENTS } from '../../src/config/limits.js';
import { InvalidSet, touches } from '../../src/config/prune.js';
import { readYamlFast } from '../../src/config/yaml-fast.js';
import { readYaml } from '../../src/config/yaml-source.js';
import { ConfigError, type Problem } from '../../src/errors.js';

const OPTS = { file: 'big.def', baseDir: '/tmp' };
const XML_HEAD = "<domain type='kvm'><name>x</name><memory unit='KiB'>1048576</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type></os>";

/** The only problem of `text`; it must also make parseDefinition throw a ConfigError (not a RangeError). */
function single(text: string): Problem {
  const ps = validateDefinition(text, OPTS);
  assert.equal(ps.length, 1, `expected one problem, got ${ps.length}: ${JSON.stringify(ps.slice(0, 3))}`);
  assert.throws(() => parseDefinition(text, OPTS), (e: unknown) => e instanceof ConfigError && e.problems.length === 1);
  return ps[0] as Problem;
}

test('5000-deep flow YAML is one problem naming the nesting limit at its line and column, not a RangeError', () => {
  const p = single(`name: x\nmemory: 1G\nextra: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
  assert.match(p.message, new RegExp(`nested too deeply: more than ${MAX_DEPTH} levels`));
  assert.equal(p.file, 'big.def');
  assert.equal(p.line, 3);
  assert.ok((p.col ?? 0) > MAX_DEPTH && (p.col ?? 0) < MAX_DEPTH + 20, `column ${String(p.col)}`);
});

test('5000-deep block YAML and a deep qemu-launcher file are refused the same way', () => {
  const block = `name: x\nextra:\n${Array.from({ length: 5000 }, (_, i) => `${' '.repeat(i + 1)}k:`).join('\n')} 1\n`;
  assert.match(single(block).message, /nested too deeply/);
  const launcher = `launcher: { binary: /usr/bin/qemu-system-x86_64 }\nqemu:\n- name: x\n- m: ${'['.repeat(6000)}1${']'.repeat(6000)}\n`;
  const p = single(launcher);
  assert.match(p.message, /nested too deeply/);
  assert.equal(p.line, 4);
});

test('aliases nested past the limit are one problem at the alias, not a RangeError', () => {
  const lines = ['name: x', 'a0: &a0 [1]'];
  for (let i = 1; i < 6000; i++) lines.push(`a${i}: &a${i} [*a${i - 1}]`);
  const ps = validateDefinition(`${lines.join('\n')}\n`, OPTS);
  const deep = ps.filter((p) => /nested too deeply/.test(p.message));
  assert.equal(deep.length, 1, JSON.stringify(ps.slice(0, 3)));
  assert.ok(deep[0]?.line !== undefined);
});

test('8000-deep XML is one problem naming the element nesting limit where it was passed', () => {
  const p = single(`${XML_HEAD}<devices>${'<a>'.repeat(8000)}${'</a>'.repeat(8000)}</devices></domain>`);
  assert.match(p.message, new RegExp(`^<a> is nested too deeply: more than ${MAX_DEPTH} levels of elements`));
  assert.equal(p.line, 1);
  // The element that went past the limit: XML_HEAD and <devices> hold 2 levels, then each <a> is 3 characters.
  assert.equal(p.col, XML_HEAD.length + '<devices>'.length + 3 * (MAX_DEPTH - 2) + 1);
});

test('XML with more elements than the limit is one problem naming it', () => {
  const p = single(`${XML_HEAD}<devices>${'<x/>'.repeat(MAX_XML_ELEMENTS)}</devices></domain>`);
  assert.match(p.message, new RegExp(`more than ${MAX_XML_ELEMENTS} elements`));
  assert.equal(p.line, 1);
});

test('at most MAX_PROBLEMS problems are listed, in source order, then one counting the rest from where they start', () => {
  const text = `name: x\n${Array.from({ length: 3000 }, (_, i) => `k${i}: 1`).join('\n')}\n`;
  const ps = validateDefinition(text, OPTS);
  assert.equal(ps.length, MAX_PROBLEMS + 1);
  assert.deepEqual(
    ps.slice(0, 3).map((p) => `${p.line}:${p.path}`),
    ['2:k0', '3:k1', '4:k2'],
  );
  const last = ps[MAX_PROBLEMS] as Problem;
  assert.match(last.message, new RegExp(`^${3000 - MAX_PROBLEMS} more problems not listed \\(at most ${MAX_PROBLEMS} are listed`));
  assert.equal(last.line, MAX_PROBLEMS + 2, 'at the first problem not listed');
  assert.throws(() => parseDefinition(text, OPTS), (e: unknown) => e instanceof ConfigError && e.problems.length === MAX_PROBLEMS + 1);
});

test('the problem limit holds for XML too, with the warnings of a lenient import', () => {
  const text = `${XML_HEAD}<devices>${'<foo/>'.repeat(5000)}</devices></domain>`;
  const ps = validateDefinition(text, OPTS);
  assert.equal(ps.length, MAX_PROBLEMS + 1);
  assert.match(ps[MAX_PROBLEMS]?.message ?? '', /^4900 more problems not listed/);
  const warnings: Problem[] = [];
  parseDefinition(text, { ...OPTS, lenient: true, onWarning: (w) => warnings.push(w) });
  assert.equal(warnings.length, MAX_PROBLEMS + 1);
  // 5000 unsupported elements and the warning that the domain has no <acpi/>.
  assert.match(warnings[MAX_PROBLEMS]?.message ?? '', /^4901 more problems not listed/);
});

test('keys that are the same value (1 and 01, 1 and "1") are duplicates for both YAML readers', () => {
  for (const text of ['a:\n  1: x\n  01: y\n', 'a: { 1: x, 0x1: y }\n', 'a:\n  "1": x\n  1: y\n', 'a:\n  true: x\n  True: y\n', 'a:\n  1: x\n  1.0: y\n']) {
    assert.equal(readYamlFast(text), undefined, `the fast reader must leave this to the full reader:\n${text}`);
    const full = readYaml(text);
    assert.ok(full.fatal, text);
    assert.match(full.problems.list[0]?.message ?? '', /^Duplicate key `[^`]+`: each key may appear once in a mapping$/, text);
    assert.equal(full.problems.list[0]?.line, text.startsWith('a: {') ? 1 : 3, text);
  }
  // Different values stay different keys.
  const distinct = 'a:\n  1: x\n  2: y\n  01x: z\n';
  assert.deepEqual(readYamlFast(distinct), { a: { 1: 'x', 2: 'y', '01x': 'z' } });
  assert.deepEqual(readYaml(distinct).value, { a: { 1: 'x', 2: 'y', '01x': 'z' } });
});

test('the invalid-pointer index answers exactly as the list scan it replaces', () => {
  const segs = ['a', 'b', '0', '1', 'a~1b', ''];
  const random = (n: number): string => Array.from({ length: n }, () => `/${segs[Math.floor(Math.random() * segs.length)] ?? ''}`).join('');
  for (let round = 0; round < 300; round++) {
    const invalid = Array.from({ length: Math.floor(Math.random() * 5) }, () => random(Math.floor(Math.random() * 4)));
    const set = new InvalidSet(invalid);
    for (let i = 0; i < 20; i++) {
      const p = random(Math.floor(Math.random() * 4));
      assert.equal(set.touches(p), touches(invalid, p), `${JSON.stringify(invalid)} ${p}`);
    }
  }
});
