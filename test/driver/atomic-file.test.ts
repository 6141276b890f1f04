import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { syncDir, writeFileAtomic } from '../../src/driver/atomic-file.js';

describe('writeFileAtomic', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-test-atomic-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces a file and leaves no temporary file behind', async () => {
    const f = join(dir, 'a.json');
    await writeFileAtomic(f, 'one');
    await writeFileAtomic(f, 'two');
    assert.equal(await readFile(f, 'utf8'), 'two');
    assert.deepEqual(await readdir(dir), ['a.json']);
  });

  it('concurrent writers of one file leave exactly one whole version', async () => {
    const f = join(dir, 'b.json');
    const versions = Array.from({ length: 40 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(5000 + i) }));
    await Promise.all(versions.map((v) => writeFileAtomic(f, v)));
    assert.ok(versions.includes(await readFile(f, 'utf8')));
    assert.deepEqual((await readdir(dir)).filter((e) => e.includes('b.json')), ['b.json'], 'no temporary file left');
  });

  it('a writer killed with SIGKILL at a random instant leaves the old or the new content, never a torn file', async () => {
    const f = join(dir, 'c.json');
    const script = `
      const { writeFileAtomic } = await import(${JSON.stringify(new URL('../../src/driver/atomic-file.js', import.meta.url).href)});
      for (let i = 0; ; i++) await writeFileAtomic(${JSON.stringify(f)}, JSON.stringify({ i, pad: 'y'.repeat(20000) }));`;
    for (let round = 0; round < 5; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
      // Node may start slowly on a busy host: wait until the writer has written once, then kill it at random.
      for (let i = 0; i < 500 && (await stat(f).catch(() => undefined)) === undefined; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 100)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      const parsed = JSON.parse(await readFile(f, 'utf8')) as { i: number; pad: string };
      assert.equal(parsed.pad.length, 20000, `round ${round}: content is whole`);
    }
  });

  it('syncDir() serves many concurrent callers and treats a removed directory as nothing to persist', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => syncDir(dir)));
    assert.equal(results.length, 50);
    assert.equal(await syncDir(join(dir, 'gone')), undefined);
  });
});
