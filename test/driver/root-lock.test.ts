/**
 * One driver per root, with an abstract unix socket named from `<root>/lock.key`: the lock lives exactly as
 * long as its holder (a SIGKILLed holder frees it at once), whatever the lock file says, and the file stays.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RootLock } from '../../src/driver/root-lock.js';
import { VmkitError } from '../../src/errors.js';

const LOCK_MODULE = new URL('../../src/driver/root-lock.js', import.meta.url).href;

/** A process holding the lock of `root` until killed; resolves once it holds it (or rejects with what it printed). */
async function holder(root: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    const { RootLock } = await import(${JSON.stringify(LOCK_MODULE)});
    try { await RootLock.acquire(${JSON.stringify(root)}); console.log('held'); } catch (e) { console.log('refused ' + e.message); process.exit(3); }
    setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('held')) resolve();
      if (out.includes('refused')) reject(new Error(out));
    });
    child.once('close', () => reject(new Error(`holder exited: ${out}`)));
  });
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGKILL');
  await closed;
}

const inUseBy = (pid: number | string) => (e: unknown) => e instanceof VmkitError && e.code === 'InvalidState' && new RegExp(`^Root .* is in use by process ${pid} `).test(e.message);

describe('root lock (abstract socket)', () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-lock-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('a second process is refused naming the holder; the lock is free once the holder is SIGKILLed; the file stays', async () => {
    const root = join(base, 'a');
    await mkdir(root);
    const child = await holder(root);
    await assert.rejects(RootLock.acquire(root), inUseBy(child.pid ?? -1));
    await kill9(child);
    const lock = await RootLock.acquire(root);
    assert.equal((await readFile(join(root, 'lock'), 'utf8')).split(' ')[0], String(process.pid));
    await lock.release();
    assert.ok((await stat(join(root, 'lock'))).isFile(), 'the lock file stays');
    assert.equal(await readFile(join(root, 'lock'), 'utf8'), '', 'a released lock names no owner');
  });

  it('a held lock is not taken over because its file names a dead process', async () => {
    const root = join(base, 'b');
    await mkdir(root);
    const child = await holder(root);
    try {
      // What the check-then-unlink lock took for a stale lock: the file names a process that is gone.
      await writeFile(join(root, 'lock'), '999999999 12345\n');
      await assert.rejects(RootLock.acquire(root), inUseBy('999999999'));
    } finally {
      await kill9(child);
    }
  });

  it('of many processes racing for a free root whose lock file names a dead process, exactly one gets it', async () => {
    const root = join(base, 'c');
    await mkdir(root);
    await writeFile(join(root, 'lock'), '999999999 12345\n');
    const racers = Array.from({ length: 8 }, () =>
      spawn(process.execPath, ['--input-type=module', '-e', `
        const { RootLock } = await import(${JSON.stringify(LOCK_MODULE)});
        try { await RootLock.acquire(${JSON.stringify(root)}); console.log('held'); } catch (e) { console.log('refused'); }
        setTimeout(() => process.exit(0), 1500);`], { stdio: ['ignore', 'pipe', 'inherit'] }),
    );
    const outs = await Promise.all(
      racers.map(
        (c) =>
          new Promise<string>((resolve) => {
            let out = '';
            c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
            c.once('close', () => resolve(out.trim()));
          }),
      ),
    );
    assert.equal(outs.filter((o) => o === 'held').length, 1, outs.join(','));
    assert.equal(outs.filter((o) => o === 'refused').length, 7, outs.join(','));
  });

  it('the same root twice in one process is refused; a symbolic link as the lock file is refused', async () => {
    const root = join(base, 'd');
    await mkdir(root);
    const lock = await RootLock.acquire(root);
    await assert.rejects(RootLock.acquire(root), (e: unknown) => e instanceof VmkitError && /already open in this process/.test(e.message));
    await lock.release();
    const root2 = join(base, 'e');
    await mkdir(root2);
    await writeFile(join(base, 'target'), 'x');
    await symlink(join(base, 'target'), join(root2, 'lock'));
    await assert.rejects(RootLock.acquire(root2), (e: unknown) => e instanceof VmkitError && e.code === 'HostError' && /Cannot lock root/.test(e.message));
    assert.equal(await readFile(join(base, 'target'), 'utf8'), 'x');
  });

  it('the key is made once, mode 0600; a key another user could read, or a symbolic link, is refused and left alone', async () => {
    const root = join(base, 'f');
    await mkdir(root);
    const lock = await RootLock.acquire(root);
    await lock.release();
    const st = await stat(join(root, 'lock.key'));
    assert.equal(st.mode & 0o777, 0o600);
    const key = await readFile(join(root, 'lock.key'), 'utf8');
    assert.match(key, /^[0-9a-f]{64}\n$/);
    await (await RootLock.acquire(root)).release();
    assert.equal(await readFile(join(root, 'lock.key'), 'utf8'), key, 'the same key the next time');
    await chmod(join(root, 'lock.key'), 0o644);
    await assert.rejects(RootLock.acquire(root), (e: unknown) => e instanceof VmkitError && e.code === 'HostError' && /lock\.key must be a regular file .* \(mode 0600\)/.test(e.message));
    const root2 = join(base, 'g');
    await mkdir(root2);
    await writeFile(join(base, 'key-target'), 'y');
    await symlink(join(base, 'key-target'), join(root2, 'lock.key'));
    await assert.rejects(RootLock.acquire(root2), (e: unknown) => e instanceof VmkitError && e.code === 'HostError' && /Cannot lock root/.test(e.message));
    assert.equal(await readFile(join(base, 'key-target'), 'utf8'), 'y');
  });

  it('a copy of a root (same key, another directory) is locked on its own', async () => {
    const a = join(base, 'h1');
    const b = join(base, 'h2');
    await mkdir(a);
    await mkdir(b);
    const la = await RootLock.acquire(a);
    await writeFile(join(b, 'lock.key'), await readFile(join(a, 'lock.key')), { mode: 0o600 });
    const lb = await RootLock.acquire(b);
    await lb.release();
    await la.release();
  });
});
