/**
 * The fast YAML reader (src/config/yaml-fast.ts) must agree with the full reader on every text it accepts,
 * and definitions read through it must give the same spec, format and problems as the full reader.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { detectFormat, parseDefinition, validateDefinition } from '../../src/config/index.js';
import { parseNative, parseNativeValue } from '../../src/config/native/parse-native.js';
import { readYamlFast } from '../../src/config/yaml-fast.js';
import { readYaml } from '../../src/config/yaml-source.js';
import { ConfigError } from '../../src/errors.js';
import { manyDisksYaml } from '../driver/fixtures.js';
import { REPO } from '../helpers/guest.js';

/** Fast result is either "not mine" (undefined) or exactly what the full reader gives, with no problem. */
function agrees(text: string): boolean {
  const fast = readYamlFast(text);
  if (fast === undefined) return false;
  const slow = readYaml(text);
  assert.deepEqual(slow.problems.list, [], `fast reader accepted a text the full reader has problems with:\n${text}`);
  assert.equal(slow.fatal, false);
  assert.deepStrictEqual(fast, slow.value, `fast and full readers disagree on:\n${text}`);
  return true;
}

test('fast YAML reader: every YAML file of the repository reads the same as with the full reader', () => {
  const files = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { cwd: REPO, encoding: 'utf8' }).split('\n').filter((f) => f !== '');
  assert.ok(files.length > 10);
  let fast = 0;
  for (const f of files) if (agrees(readFileSync(join(REPO, f), 'utf8'))) fast++;
  assert.ok(fast >= files.length / 2, `only ${fast} of ${files.length} files took the fast path`);
});

test('fast YAML reader: scalars resolve as in the YAML 1.2 core schema; unusual constructs go to the full reader', () => {
  const accepted = [
    'a: 1\nb: -1\nc: +2\nd: 0777\ne: 0o17\nf: 0x1F\ng: 1.5\nh: 1e3\ni: .5\nj: 1.\nk: -.5e-2\n',
    'a: null\nb: ~\nc:\nd: Null\ne: true\nf: False\ng: TRUE\nh: yes\ni: off\nj: y\n',
    'a: 12:30\nb: 52:54:00:12:34:56\nc: 1_000\nd: 0b101\ne: 1G\nf: a#b\ng: a  b  # c\nh: x|y>z\ni: .\nj: -x\nk: "a # b"\nl: \'it\'\'s\'\n',
    'a: [a, b, -device, "x,y", \'z\']\nb: {x: 1, y: [2, {z: 3}], w: {}}\nc: []\nd: [ ]\ne: { }\nf: [a#b]\n',
    'a:\n  b:\n    c: 1\n  d: [1]\ne:\n- 1\n- x: 1\n  y: 2\n-\n-\n  - 1\n',
    'disks:\n  - path: /a\n    format: raw\n  - { path: /b, format: qcow2 }\nnics:\n- type: user\n  forwards:\n    - { host: 2222, guest: 22 }\n',
    '# c\n\nname: a   # c\n  # indented comment\nmemory: 1G\n',
    '0: a\n1.5: b\ntrue: c\n0x10: d\nk.e-y/z+: e\n',
  ];
  for (const t of accepted) assert.ok(agrees(t), `expected the fast path for:\n${t}`);
  const declined = [
    '',
    '# only a comment\n',
    '- a\n- b\n',
    'a: |\n  x\n',
    'a: >-\n  x\n',
    'a: &x 1\nb: *x\n',
    'a: !!str 1\n',
    'a: "x\\ny"\n',
    'a: "x\n  y"\n',
    'a: b\n  c\n',
    'a: b: c\n',
    'a: 1\na: 2\n',
    '"a": 1\n',
    'null: 1\n',
    '~: 1\n',
    '? a\n: 1\n',
    '---\na: 1\n',
    'a: 1\n...\n',
    '%YAML 1.2\n---\na: 1\n',
    'a:\tb\n',
    'a: b\r\n',
    '\uFEFFa: 1\n',
    'a: é\n',
    'a: .inf\n',
    'a: .nan\n',
    'a: [1, 2\n  , 3]\n',
    'a: [1,]\n',
    'a: {b: }\n',
    'a: {b:1}\n',
    'a: [b: 1]\n',
    'a: - b\n',
    'a: -\n',
    'a: @x\n',
    '  a: 1\n',
    'a b: 1\n',
    'a: 1\n - b\n',
    '__proto__: 1\n',
    'a:\n- - 1\n',
  ];
  for (const t of declined) {
    assert.equal(readYamlFast(t), undefined, `expected the full reader for:\n${JSON.stringify(t)}`);
  }
});

test('fast YAML reader: agrees with the full reader on random texts made of tricky pieces', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const pick = <T>(a: readonly T[]): T => a[rnd(a.length)] as T;
  const indents = ['', '', '', ' ', '  ', '  ', '   ', '    '];
  const prefixes = ['', '', '', '- ', '-', '- - ', '-  '];
  const keys = ['a', 'b', 'name', '0', 'null', 'true', '"q"', '? x', '-k', 'k k', '~', 'a.b', '0x1', '__proto__', 'a#b', 'x'];
  const seps = [':', ': ', ': ', ' :', ':  ', '', ':x'];
  const values = [
    '', 'x', '1', '-1', '0o7', '0x1F', '1.5', '1e3', '.inf', 'null', '~', 'True', 'yes', '"s"', '"s\\n"', "'it''s'", "'a", '"a',
    '[a, b]', '{a: 1, b: [2, 3]}', '{a: }', '[a,]', '{}', '[]', '[-x, y]', 'a # c', 'a#c', 'a: b', '&a x', '*a', '!!str 1', '|', '>-',
    '- x', '-', 'a,b', '12:30', '[a, {b: c}]', '{ a: [ 1 ] } # c', '"a # b"', '[a #b]', '{a:1}', '@x', '-.5', '+1', '0777', '{a: 1, a: 2}',
    '[a, [b, c]]', '{a: "x, y"}', "['a''b', c]", '[a]]', '{a: 1}}', '"x" y', 'x "y"', '[ a , b ]', '{ a : 1 }',
  ];
  const trailers = ['', '', ' ', ' # comment', '  #', '#x'];
  let fast = 0;
  // Hostile: lines made of random pieces.
  for (let n = 0; n < 3000; n++) {
    const lines: string[] = [];
    const count = 1 + rnd(7);
    for (let l = 0; l < count; l++) {
      const r = rnd(20);
      if (r === 0) lines.push(pick(['# c', '', '   ', '  # c', '---']));
      else if (r < 4) lines.push(`${pick(indents)}${pick(prefixes)}${pick(values)}${pick(trailers)}`);
      else lines.push(`${pick(indents)}${pick(prefixes)}${pick(keys)}${pick(seps)}${pick(values)}${pick(trailers)}`);
    }
    if (agrees(lines.join('\n'))) fast++;
  }
  // Well-formed documents in random styles (block and flow, indentations, comments) with tricky scalars.
  const goodKeys = ['a', 'b', 'name', '0', 'true', 'a.b', '0x1', 'x', 'k-y', 'K_2', '1.5'];
  const goodValues = ['x', '1', '-1', '0o7', '0x1F', '1.5', '1e3', 'null', '~', 'True', 'yes', '"s"', "'it''s'", 'a#c', '12:30', '-x', '.5', '-.5', '+1', '0777', '1_0', '"a, b"', "'a: b'", '"#"', 'x y', '/a/b', 'a=b,c=d'];
  type Tree = string | Tree[] | { [k: string]: Tree };
  const tree = (depth: number): Tree => {
    const r = rnd(10);
    if (depth > 2 || r < 5) return rnd(4) === 0 ? pick(values) : pick(goodValues);
    if (r < 7) return Array.from({ length: rnd(4) }, () => tree(depth + 1));
    const o: { [k: string]: Tree } = {};
    for (let i = rnd(4); i > 0; i--) o[rnd(8) === 0 ? pick(keys) : pick(goodKeys)] = tree(depth + 1);
    return o;
  };
  const flowOf = (t: Tree): string =>
    typeof t === 'string' ? t : Array.isArray(t) ? `[${t.map(flowOf).join(pick([', ', ',', ' , ']))}]` : `{${pick(['', ' '])}${Object.entries(t).map(([k, v]) => `${k}: ${flowOf(v)}`).join(', ')}${pick(['', ' '])}}`;
  const block = (t: Tree, ind: string, out: string[]): void => {
    if (typeof t === 'string') return;
    if (Array.isArray(t)) {
      for (const item of t) {
        if (typeof item === 'string' || rnd(3) === 0) out.push(`${ind}- ${flowOf(item)}${pick(trailers)}`);
        else if (!Array.isArray(item) && Object.keys(item).length > 0) {
          const sub: string[] = [];
          block(item, `${ind}  `, sub);
          out.push(`${ind}- ${(sub[0] ?? '').trimStart()}`, ...sub.slice(1));
        } else {
          out.push(`${ind}-${pick(trailers)}`);
          block(item, `${ind}${pick(['  ', '    ', ' '])}`, out);
        }
      }
      return;
    }
    for (const [k, v] of Object.entries(t)) {
      if (typeof v === 'string' || rnd(3) === 0) out.push(`${ind}${k}: ${flowOf(v)}${pick(trailers)}`);
      else {
        out.push(`${ind}${k}:${pick(trailers)}`);
        if (rnd(5) === 0) out.push(pick(['', '# c', '   # c']));
        block(v, Array.isArray(v) && rnd(2) === 0 ? ind : `${ind}${pick(['  ', '    ', ' '])}`, out);
      }
    }
  };
  for (let n = 0; n < 3000; n++) {
    const o: { [k: string]: Tree } = {};
    for (let i = 1 + rnd(5); i > 0; i--) o[rnd(8) === 0 ? pick(keys) : pick(goodKeys)] = tree(0);
    const out: string[] = [];
    block(o, '', out);
    if (agrees(out.join('\n'))) fast++;
  }
  assert.ok(fast > 1000, `only ${fast} random texts took the fast path: the generator is too hostile to test anything`);
});

test('fast path: the same spec as the full reader, and the full reader\'s problems (with positions) on bad input', () => {
  const texts = [manyDisksYaml('d1', 16), readFileSync(join(REPO, 'test/fixtures/config/native-minimal.yaml'), 'utf8')];
  for (const text of texts) {
    const input = { text, file: '/defs/x.yaml', baseDir: '/defs' };
    const fast = readYamlFast(text);
    assert.ok(fast !== undefined);
    const viaFast = parseNativeValue(input, fast);
    const viaFull = parseNative(input);
    assert.deepEqual(viaFull.problems, []);
    assert.ok(viaFast !== undefined);
    assert.deepStrictEqual(viaFast.spec, viaFull.spec);
    assert.deepStrictEqual(parseDefinition(text, input), viaFull.spec);
  }
  // Invalid but plain: the fast path declines, and the problems come from the full reader with file:line:col.
  const bad = 'name: a\nmemory: lots\ndisks:\n  - { path: /a }\n  - { path: /b, format: raw, bus: floppy }\nbogus: 1\n';
  assert.ok(readYamlFast(bad) !== undefined);
  assert.equal(parseNativeValue({ text: bad, baseDir: '/' }, readYamlFast(bad) as Record<string, unknown>), undefined);
  const problems = validateDefinition(bad, { file: 'bad.yaml', baseDir: '/' });
  assert.deepEqual(problems, parseNative({ text: bad, file: 'bad.yaml', baseDir: '/' }).problems.slice().sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0)));
  assert.ok(problems.length >= 3);
  for (const p of problems) {
    assert.equal(p.file, 'bad.yaml');
    assert.ok(typeof p.line === 'number' && typeof p.col === 'number', JSON.stringify(p));
  }
  assert.throws(() => parseDefinition(bad, { file: 'bad.yaml', baseDir: '/' }), (e: unknown) => e instanceof ConfigError && e.problems.length === problems.length);
});

test('detectFormat: the same answer whether the text was read by the fast reader, parsed by the caller, or neither', () => {
  const cases: [string, string][] = [
    ['launcher:\n  binary: q\nqemu:\n- nographic\n', 'qemu-launcher'],
    ['qemu: [a, b]\n', 'qemu-launcher'],
    ['qemu:\n- m: 1G\nlauncher: {binary: q}\n', 'qemu-launcher'],
    ['name: a\nmemory: 1G\n', 'vmkit-yaml'],
    ['name: a\nqemu_args: [x]\n', 'vmkit-yaml'],
    ['name: a\ncmdline: |\n  qemu: x\n', 'vmkit-yaml'],
    ['launcher: &l {binary: q}\nqemu: [a]\n', 'qemu-launcher'],
    ['<domain/>', 'libvirt-xml'],
    ['launcher:\n  binary: [unterminated\nqemu: x', 'qemu-launcher'],
    ['', 'vmkit-yaml'],
  ];
  for (const [text, format] of cases) {
    assert.equal(detectFormat(text), format, text);
    assert.equal(detectFormat(text, readYaml(text).doc), format, text);
  }
  // A launcher file read through the fast path is still parsed as a launcher file.
  const launcher = 'launcher:\n  binary: qemu-system-x86_64\nqemu:\n  - name: vm1\n  - m: 1G\n  - nographic\n';
  assert.ok(readYamlFast(launcher) !== undefined);
  assert.equal(parseDefinition(launcher, { file: '/etc/x/vm.yml', baseDir: '/etc/x' }).source.format, 'qemu-launcher');
});
