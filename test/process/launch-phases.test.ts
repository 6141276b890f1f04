import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, openEmbedded } from '../../src/index.js';
import { pausedYaml } from '../driver/fixtures.js';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

test('a start builds its argv once: launch-phases.ts is the only caller of buildArgv on the start path, and the host check reads that argv', async () => {
  const startPath = ['process/launch-phases.ts', 'process/qemu-process.ts', 'process/argv-context.ts', 'driver/domain.ts', 'driver/connection.ts', 'cli/commands/run.ts'];
  const callers: string[] = [];
  for (const f of startPath) {
    const text = await readFile(join(SRC, f), 'utf8');
    const calls = text.match(/\bbuildArgv\(/g)?.length ?? 0;
    if (calls > 0) callers.push(`${f}:${calls}`);
  }
  assert.deepEqual(callers, ['process/launch-phases.ts:1']);
  const phases = await readFile(join(SRC, 'process/launch-phases.ts'), 'utf8');
  assert.match(phases, /hostProblems\(spec, \{[^}]*argv: built/, 'the host check is given the argv that was built');
});

test('a host problem found at start is placed in the stored definition text (file:line:col) and leaves nothing behind', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'vmkit-test-phases-'));
  const conn = await openEmbedded({ root });
  try {
    const text = `${pausedYaml('badmodel')}qemu_args: ["-device", "virtio-rng-pcie"]\n`;
    const line = text.split('\n').findIndex((l) => l.startsWith('qemu_args')) + 1;
    const dom = await conn.define({ text, file: '/defs/badmodel.yaml' });
    await assert.rejects(dom.start(), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.problems.length, 1);
      const p = e.problems[0];
      assert.equal(p?.file, '/defs/badmodel.yaml');
      assert.equal(p?.line, line);
      assert.equal(p?.path, 'qemu_args[1]');
      assert.match(p?.message ?? '', /Device type "virtio-rng-pcie" is not available .*did you mean virtio-rng-pci/);
      return true;
    });
    assert.equal(dom.state(), 'shutoff');
    assert.deepEqual(await readdir(join(root, 'run')), [], 'no run directory, socket or process left');
  } finally {
    await conn.close();
    await rm(root, { recursive: true, force: true });
  }
});
