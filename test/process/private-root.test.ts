/**
 * The sweep of `vmkit run`'s private roots removes only our own leftovers: directories (not symbolic links)
 * owned by our uid with mode 0700 whose owner process is gone. Other users' `vmkit-run-*` entries in a
 * shared temp dir are never touched.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createPrivateRoot, sweepStalePrivateRoots } from '../../src/process/private-root.js';

const NOBODY = 65534;

test('the private-root sweep removes only our dead roots: never other users\', non-0700 ones, or symbolic links', async () => {
  const base = await mkdtemp(join(tmpdir(), 'vmkit-test-sweep-'));
  try {
    await chmod(base, 0o1777);
    const dead = `${spawnSync('true').pid ?? 1} 12345\n`;
    const leftover = async (name: string, mode: number, uid = process.getuid?.() ?? 0): Promise<string> => {
      const dir = join(base, name);
      await mkdir(dir, { mode });
      await chmod(dir, mode);
      await writeFile(join(dir, 'owner'), dead);
      await chown(dir, uid, uid);
      return dir;
    };
    const mine = await leftover('vmkit-run-mine', 0o700);
    await leftover('vmkit-run-theirs', 0o700, NOBODY);
    await leftover('vmkit-run-open', 0o755);
    const target = await leftover('precious', 0o700);
    await symlink(target, join(base, 'vmkit-run-link'));
    const live = await createPrivateRoot(base);

    const removed = await sweepStalePrivateRoots(base);

    assert.deepEqual(removed, [mine]);
    assert.deepEqual((await readdir(base)).sort(), ['precious', 'vmkit-run-link', 'vmkit-run-open', 'vmkit-run-theirs', live.slice(base.length + 1)].sort());
    assert.ok((await lstat(join(base, 'vmkit-run-link'))).isSymbolicLink());
    assert.deepEqual(await readdir(target), ['owner']);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
