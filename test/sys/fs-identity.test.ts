import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { VmkitError } from '../../src/errors.js';
import { withFsIdentity } from '../../src/sys/fs-identity.js';

/** The calling thread's credentials, read from the kernel (not through the code under test). */
function thread(): { fsuid: number; fsgid: number; groups: string } {
  const status = readFileSync('/proc/thread-self/status', 'utf8');
  const field = (name: string): string => (new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '').trim();
  return { fsuid: Number(field('Uid').split(/\s+/)[3]), fsgid: Number(field('Gid').split(/\s+/)[3]), groups: field('Groups') };
}

const nobody = { uid: 65534, gid: 65534, groups: [65534] };

test('withFsIdentity() runs a function with another account\'s file-system identity and restores this thread\'s own, even when it throws', async () => {
  const before = thread();
  if (process.geteuid?.() !== 0) {
    assert.throws(() => withFsIdentity(nobody, () => 1), (e: unknown) => e instanceof VmkitError && e.code === 'HostError' && /needs root/.test(e.message));
    assert.deepEqual(thread(), before);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-fsid-'));
  try {
    const secret = join(dir, 'secret');
    await writeFile(secret, 'x', { mode: 0o600 });
    const seen = withFsIdentity(nobody, () => {
      const t = thread();
      let read: string;
      try {
        readFileSync(secret);
        read = 'read';
      } catch (e) {
        read = (e as NodeJS.ErrnoException).code ?? 'error';
      }
      return { ...t, read };
    });
    assert.deepEqual(seen, { fsuid: 65534, fsgid: 65534, groups: '65534', read: 'EACCES' });
    assert.deepEqual(thread(), before, 'restored');
    assert.throws(() => withFsIdentity(nobody, () => { throw new Error('inside'); }), /inside/);
    assert.deepEqual(thread(), before, 'restored after a throw');
    assert.equal(readFileSync(secret, 'utf8'), 'x');
    // Our own identity (or none) runs the function as is.
    assert.equal(withFsIdentity(undefined, () => thread().fsuid), before.fsuid);
    const made = join(dir, 'made');
    chmodSync(dir, 0o777);
    withFsIdentity(nobody, () => writeFileSync(made, 'y', { flag: 'wx' }));
    assert.equal((await stat(made)).uid, 65534, 'a file created inside belongs to the account');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
