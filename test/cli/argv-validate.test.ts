import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

const DEF = [
  'name: cli1',
  'machine: { type: q35, accel: tcg }',
  'disks:',
  '  - { path: "a,file=/etc/shadow", format: raw }',
].join('\n');

describe('vmkit argv and vmkit validate', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-test-cli-'));
    await writeFile(join(dir, 'ok.yaml'), DEF);
    await writeFile(join(dir, 'bad.yaml'), 'name: cli2\nmemory: 1\ncpu: { vcpus: many }\nbogus: true\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('argv prints the binary then one argument per line, with the disk path escaped as one value', async () => {
    const r = await runCli(['argv', join(dir, 'ok.yaml')]).done;
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /qemu-system-x86_64$/);
    assert.equal(lines[1], '-S');
    assert.ok(lines.includes('q35,accel=tcg'));
    const blockdev = lines.filter((l) => l.includes('filename='));
    assert.equal(blockdev.length, 1);
    // relative paths resolve against the file's directory; the comma is doubled, so `file=` stays inside the value
    assert.equal(blockdev[0], `driver=file,node-name=disk0-file,filename=${dir.replace(/,/g, ',,')}/a,,file=/etc/shadow`);
    assert.ok(lines.some((l) => l.startsWith('driver=raw') || l.includes(',driver=raw') || l.includes('driver=raw,')), 'explicit format driver');
  });

  it('argv --json gives the binary, argv and accelerator', async () => {
    const r = await runCli(['argv', '--json', join(dir, 'ok.yaml')]).done;
    const out = JSON.parse(r.stdout) as { binary: string; argv: string[]; accel: string };
    assert.equal(out.accel, 'tcg');
    assert.equal(out.argv[0], '-S');
  });

  it('validate says valid and exits 0 for a good file', async () => {
    const r = await runCli(['validate', join(dir, 'ok.yaml')]).done;
    assert.equal(r.code, 0);
    assert.match(r.stdout, /valid/);
  });

  it('validate lists every problem with line:col and exits 2', async () => {
    const r = await runCli(['validate', '--json', join(dir, 'bad.yaml')]).done;
    assert.equal(r.code, 2);
    const out = JSON.parse(r.stdout) as { valid: boolean; problems: { path: string; line: number; col: number }[] };
    assert.equal(out.valid, false);
    const paths = out.problems.map((p) => `${p.path}@${p.line}`).sort();
    assert.deepEqual(paths, ['bogus@4', 'cpu.vcpus@3', 'memory@2']);
  });

  it('a missing file is bad input (exit 2) naming where it looked', async () => {
    const r = await runCli(['validate', join(dir, 'nope.yaml')]).done;
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope\.yaml/);
  });

  it('an unknown flag is bad input (exit 2)', async () => {
    const r = await runCli(['run', '--frobnicate', join(dir, 'ok.yaml')]).done;
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option/);
  });
});
