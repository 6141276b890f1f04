import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { storeWriter } from '../../src/driver/store-writer.js';
import { SYNCFS_MIN_BATCH } from '../../src/driver/store-writer-thread.js';
import { isVmkitError } from '../../src/errors.js';

describe('store writer thread (group commit)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-test-writer-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a burst of writes in new directories: every file whole, every directory created, no temporary file left', async () => {
    const n = 64;
    assert.ok(n >= SYNCFS_MIN_BATCH);
    const data = (i: number): string => JSON.stringify({ i, pad: 'p'.repeat(1000 + i) });
    await Promise.all(Array.from({ length: n }, (_, i) => storeWriter.write(join(dir, 'burst', `d${i}`), 'domain.json', data(i), { mkdir: true })));
    for (let i = 0; i < n; i++) {
      assert.equal(await readFile(join(dir, 'burst', `d${i}`, 'domain.json'), 'utf8'), data(i));
      assert.deepEqual(await readdir(join(dir, 'burst', `d${i}`)), ['domain.json']);
      assert.equal((await stat(join(dir, 'burst', `d${i}`, 'domain.json'))).mode & 0o777, 0o600);
    }
  });

  it('a single write (fsync path) replaces the file', async () => {
    await storeWriter.write(join(dir, 'one'), 'f.json', 'first', { mkdir: true });
    await storeWriter.write(join(dir, 'one'), 'f.json', 'second', { mode: 0o640 });
    assert.equal(await readFile(join(dir, 'one', 'f.json'), 'utf8'), 'second');
    assert.equal((await stat(join(dir, 'one', 'f.json'))).mode & 0o777, 0o640);
    assert.deepEqual(await readdir(join(dir, 'one')), ['f.json']);
  });

  it('writes of one file are applied in the order they were issued, within and across batches', async () => {
    const versions = Array.from({ length: 30 }, (_, i) => `v${i}`);
    await Promise.all(versions.map((v) => storeWriter.write(join(dir, 'order'), 'f.json', v, { mkdir: true })));
    assert.equal(await readFile(join(dir, 'order', 'f.json'), 'utf8'), 'v29');
    assert.deepEqual(await readdir(join(dir, 'order')), ['f.json']);
  });

  it('a write that fails fails alone, with a HostError naming the file; the rest of its batch is written', async () => {
    await writeFile(join(dir, 'not-a-dir'), 'x');
    const results = await Promise.allSettled([
      ...Array.from({ length: 8 }, (_, i) => storeWriter.write(join(dir, 'mixed', `d${i}`), 'domain.json', `ok${i}`, { mkdir: true })),
      storeWriter.write(join(dir, 'not-a-dir', 'sub'), 'domain.json', 'never', { mkdir: true }),
    ]);
    for (let i = 0; i < 8; i++) {
      assert.equal(results[i]?.status, 'fulfilled');
      assert.equal(await readFile(join(dir, 'mixed', `d${i}`, 'domain.json'), 'utf8'), `ok${i}`);
    }
    const bad = results[8];
    assert.equal(bad?.status, 'rejected');
    const e = (bad as PromiseRejectedResult).reason as Error;
    assert.ok(isVmkitError(e) && e.code === 'HostError', String(e));
    assert.match(e.message, /not-a-dir\/sub\/domain\.json/);
  });

  for (const syncfs of [true, false]) {
    it(`a writer process killed with SIGKILL at a random instant leaves the old or the new content of each file, never a torn one (${syncfs ? 'syncfs' : 'fsync'} commits)`, async () => {
      const root = join(dir, `kill-${syncfs ? 'syncfs' : 'fsync'}`);
      const script = `
        const { storeWriter } = await import(${JSON.stringify(new URL('../../src/driver/store-writer.js', import.meta.url).href)});
        for (let round = 0; ; round++) {
          await Promise.all(Array.from({ length: 8 }, (_, i) =>
            storeWriter.write(${JSON.stringify(root)} + '/d' + i, 'domain.json', JSON.stringify({ round, i, pad: 'y'.repeat(20000) }), { mkdir: true })));
        }`;
      for (let round = 0; round < 3; round++) {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
          stdio: ['ignore', 'ignore', 'pipe'],
          env: { ...process.env, ...(syncfs ? {} : { VMKIT_NO_SYNCFS: '1' }) },
        });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const closed = new Promise((r) => child.once('close', r));
        for (let i = 0; i < 500 && (await stat(join(root, 'd7', 'domain.json')).catch(() => undefined)) === undefined; i++) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 100)));
        assert.equal(child.exitCode, null, `the writer process ended by itself: ${stderr}`);
        child.kill('SIGKILL');
        await closed;
        for (let i = 0; i < 8; i++) {
          const text = await readFile(join(root, `d${i}`, 'domain.json'), 'utf8').catch(() => undefined);
          if (text === undefined) continue; // not written yet in this directory
          const parsed = JSON.parse(text) as { i: number; pad: string };
          assert.equal(parsed.i, i);
          assert.equal(parsed.pad.length, 20000, `round ${round}: d${i} is whole`);
        }
      }
    });
  }
});
