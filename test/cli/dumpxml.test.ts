import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDefinition } from '../../src/config/index.js';
import { runCli } from '../helpers/cli.js';

describe('vmkit dumpxml', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-test-dumpxml-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exports a YAML-defined domain as libvirt XML that imports back to the same spec; dump keeps the YAML', async () => {
    const yaml = 'name: web\nmachine: { type: q35, accel: tcg }\ncpu: { vcpus: 2 }\nmemory: 512M\niothreads: 1\ndisks:\n  - { path: /var/img/a.qcow2, format: qcow2, cache: none, aio: native, iothread: io0 }\n';
    const file = join(dir, 'web.yaml');
    await writeFile(file, yaml);
    const uri = `embed://${join(dir, 'root')}`;
    const d = await runCli(['define', '-c', uri, file]).done;
    assert.equal(d.code, 0, d.stderr);
    const x = await runCli(['dumpxml', '-c', uri, 'web']).done;
    assert.equal(x.code, 0, x.stderr);
    assert.match(x.stdout, /^<domain type='qemu'>/);
    const fromXml = parseDefinition(x.stdout, { file: 'web.xml', baseDir: dir });
    const fromYaml = parseDefinition(yaml, { file, baseDir: dir });
    assert.deepEqual({ ...fromXml, source: null }, { ...fromYaml, source: null });
    const n = await runCli(['dump', '-c', uri, 'web']).done;
    assert.equal(n.stdout, yaml);
  });

  it('an unknown domain is bad input (exit 2)', async () => {
    const r = await runCli(['dumpxml', '-c', `embed://${join(dir, 'root')}`, 'nope']).done;
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope/);
  });
});
