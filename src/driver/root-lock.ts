/**
 * One driver per root. The process whose driver owns a root listens on an abstract unix socket whose name
 * belongs to that root, for as long as it owns it. bind(2) of a name in use fails, so of any number of
 * processes racing for a root exactly one gets it; the kernel frees the name when that process ends, however
 * it ends, so there is no stale lock to detect and nothing is ever unlinked. It is a syscall (no native
 * module, no helper process, no listening: abstract-name.ts): `vmkit list` on an embedded root pays nothing
 * for it.
 *
 * The name is made of a random key kept in `<root>/lock.key` (mode 0600, made once) and of the root
 * directory's device and inode: another user cannot know it before it is first bound, so cannot take a
 * root's name first to keep its owner out; a copied root gets another name. (A bound abstract name can be
 * read in /proc/net/unix, hashed or not: hashing would add nothing but loading node:crypto.) Abstract
 * names live in a network namespace: two processes in different network namespaces opening one root
 * directory do not see each other's lock (vmkit never does that itself).
 *
 * `<root>/lock` stays; while the root is owned it holds "<pid> <start time>" of its owner, for the message
 * a second opener gets.
 */
// node:crypto loads only when a key is made (the bundle's built-ins load on first use: scripts/bundle.ts).
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, open, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { VmkitError } from '../errors.js';
import { ownerRecord } from '../process/state-dir.js';
import { holdAbstractName, type NameHold } from './abstract-name.js';

/** Lock files this process holds (the bind would refuse a second one too, naming this process). */
const held = new Set<string>();

const KEY_BYTES = 32;
const OPEN_FLAGS = constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Reads `<root>/lock.key`, making it first when there is none (atomically: racing makers agree on one key). */
async function lockKey(root: string): Promise<string> {
  const path = join(root, 'lock.key');
  for (let attempt = 0; attempt < 2; attempt++) {
    let file: FileHandle | undefined;
    try {
      file = await open(path, constants.O_RDONLY | OPEN_FLAGS);
      const st = await file.stat();
      const uid = process.geteuid?.() ?? 0;
      if (!st.isFile() || st.uid !== uid || (st.mode & 0o077) !== 0) {
        throw new VmkitError('HostError', `Cannot lock root ${root}: ${path} must be a regular file of uid ${uid} that only it can read (mode 0600); remove it`, { details: { root } });
      }
      const key = (await file.readFile('utf8')).trim();
      if (!/^[0-9a-f]{64}$/.test(key)) throw new VmkitError('HostError', `Cannot lock root ${root}: ${path} does not hold a lock key; remove it`, { details: { root } });
      return key;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw e;
    } finally {
      await file?.close().catch(() => undefined);
    }
    // Written under a unique name, then linked into place: link(2) fails if another process was first.
    const tmp = join(root, `.lock.key.${process.pid}.${randomBytes(6).toString('hex')}`);
    await writeFile(tmp, `${randomBytes(KEY_BYTES).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      await link(tmp, path).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }
  throw new Error('unreachable');
}

/** The abstract socket name of `root`'s lock (a leading NUL: no file). */
async function lockName(root: string): Promise<string> {
  const [key, st] = await Promise.all([lockKey(root), stat(root, { bigint: true })]);
  // At most 12 + 40 + 2 x 17 (hex of 64-bit numbers) = 86 bytes: within the 107 of sun_path.
  return `\0vmkit-root-${key.slice(0, 40)}-${st.dev.toString(16)}-${st.ino.toString(16)}`;
}

export class RootLock {
  private released = false;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
    private readonly name: NameHold,
  ) {}

  /** Takes the lock of `root`; throws InvalidState naming the owner's pid when another process holds it. */
  static async acquire(root: string): Promise<RootLock> {
    const path = join(root, 'lock');
    if (held.has(path)) {
      throw new VmkitError('InvalidState', `Root ${root} is already open in this process: close the other connection first`, { details: { root } });
    }
    held.add(path);
    let file: FileHandle | undefined;
    let name: NameHold | undefined;
    try {
      // Never through a symbolic link; O_NONBLOCK so that a FIFO put there cannot block the open.
      file = await open(path, constants.O_RDWR | constants.O_CREAT | OPEN_FLAGS, 0o600);
      if (!(await file.stat()).isFile()) throw new VmkitError('HostError', `Cannot lock root ${root}: ${path} is not a regular file; remove it`, { details: { root } });
      const bound = await holdAbstractName(await lockName(root));
      if (bound === false) {
        const owner = (await file.readFile('utf8').catch(() => '')).trim().split(/\s+/)[0] || '?';
        throw new VmkitError('InvalidState', `Root ${root} is in use by process ${owner} (another vmkit driver or daemon); use that one, or stop it`, {
          details: { root, owner },
        });
      }
      name = bound;
      const record = await ownerRecord();
      await file.truncate(0);
      await file.write(record, 0, 'utf8');
      return new RootLock(path, file, name);
    } catch (e) {
      held.delete(path);
      await name?.release();
      await file?.close().catch(() => undefined);
      if (e instanceof VmkitError) throw e;
      throw new VmkitError('HostError', `Cannot lock root ${root} (${path}): ${(e as Error).message}`, { cause: e, details: { root } });
    }
  }

  /** Lets go of the root: the file is emptied (it names no owner) and the name is freed. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.file.truncate(0).catch(() => undefined);
    await this.file.close().catch(() => undefined);
    await this.name.release();
    held.delete(this.path);
  }
}
