/**
 * One driver per root: the process whose driver owns a root holds an exclusive flock(2) on `<root>/lock`
 * for as long as it does. The kernel drops the lock when that process ends, however it ends, so there is
 * no stale lock to detect and nothing is ever unlinked (unlinking a lock file races with its next opener).
 * The file stays; while locked it holds "<pid> <start time>" of its owner, for the message a second
 * opener gets.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { VmkitError } from '../errors.js';
import { ownerRecord } from '../process/state-dir.js';
import { tryLockExclusive } from '../sys/flock.js';

/** Lock files this process holds (flock would also refuse a second open file, but with a vaguer message). */
const held = new Set<string>();

export class RootLock {
  private released = false;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
  ) {}

  /** Takes the lock of `root`; throws InvalidState naming the owner's pid when another process holds it. */
  static async acquire(root: string): Promise<RootLock> {
    const path = join(root, 'lock');
    if (held.has(path)) {
      throw new VmkitError('InvalidState', `Root ${root} is already open in this process: close the other connection first`, { details: { root } });
    }
    held.add(path);
    let file: FileHandle | undefined;
    try {
      // Never through a symbolic link; O_NONBLOCK so that a FIFO put there cannot block the open.
      file = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
      if (!(await file.stat()).isFile()) throw new VmkitError('HostError', `Cannot lock root ${root}: ${path} is not a regular file; remove it`, { details: { root } });
      if (!tryLockExclusive(file.fd, `root ${root} (${path})`)) {
        const owner = (await file.readFile('utf8').catch(() => '')).trim().split(/\s+/)[0] || '?';
        throw new VmkitError('InvalidState', `Root ${root} is in use by process ${owner} (another vmkit driver or daemon); use that one, or stop it`, {
          details: { root, owner },
        });
      }
      const record = await ownerRecord();
      await file.truncate(0);
      await file.write(record, 0, 'utf8');
      return new RootLock(path, file);
    } catch (e) {
      held.delete(path);
      await file?.close().catch(() => undefined);
      if (e instanceof VmkitError) throw e;
      throw new VmkitError('HostError', `Cannot lock root ${root} (${path}): ${(e as Error).message}`, { cause: e, details: { root } });
    }
  }

  /** Lets go of the root: the file is emptied (it names no owner) and closed, which drops the lock. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.file.truncate(0).catch(() => undefined);
    await this.file.close().catch(() => undefined);
    held.delete(this.path);
  }
}
