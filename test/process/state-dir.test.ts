import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPrivateRoot, sweepStalePrivateRoots } from '../../src/process/private-root.js';
import { createRunDir, removeRunDir, sweepStaleRunDirs } from '../../src/process/state-dir.js';

describe('run directories', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'vmkit-test-rundir-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('createRunDir() makes a private directory naming this process as its owner', async () => {
    const d = await createRunDir(root, 'vm1');
    assert.equal((await stat(d.dir)).mode & 0o777, 0o700);
    assert.match(d.qmpSocket, /\/run\/vm1\.[^/]+\/qmp\.sock$/);
    assert.deepEqual(await sweepStaleRunDirs(root), [], 'a live owner is never swept');
    await removeRunDir(d);
    assert.deepEqual(await readdir(join(root, 'run')), []);
  });

  it('sweeps directories whose owner is dead, and old ones without an owner, but not young ones', async () => {
    const dead = spawnSync('true').pid ?? 1; // a pid that has exited
    await mkdir(join(root, 'run', 'dead.x'), { recursive: true });
    await writeFile(join(root, 'run', 'dead.x', 'owner'), `${dead} 1\n`);
    await mkdir(join(root, 'run', 'torn-old.x'));
    const old = new Date(Date.now() - 3600_000);
    await utimes(join(root, 'run', 'torn-old.x'), old, old);
    await mkdir(join(root, 'run', 'being-created.x'));
    const swept = (await sweepStaleRunDirs(root)).map((p) => p.split('/').pop()).sort();
    assert.deepEqual(swept, ['dead.x', 'torn-old.x']);
    assert.deepEqual(await readdir(join(root, 'run')), ['being-created.x']);
  });

  it('private roots of dead vmkit processes are swept, live ones kept', async () => {
    const base = await mkdtemp(join(root, 'base-'));
    const mine = await createPrivateRoot(base);
    await mkdir(join(base, 'vmkit-run-stale'), { mode: 0o700 }); // as createPrivateRoot makes them
    await writeFile(join(base, 'vmkit-run-stale', 'owner'), `${spawnSync('true').pid ?? 1} 1\n`);
    const swept = await sweepStalePrivateRoots(base);
    assert.deepEqual(swept, [join(base, 'vmkit-run-stale')]);
    assert.deepEqual(await readdir(base), [mine.split('/').pop()]);
  });
});
