/**
 * One driver per root: `<root>/lock` holds "<pid> <start time>" of the process whose driver owns the root.
 * Taken with link(2) (atomic create-if-absent); a lock whose owner is gone (pid and start time no longer
 * match a live process) is taken over.
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { link, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmkitError } from '../errors.js';
import { ownerAlive, ownerRecord } from '../process/state-dir.js';

const held = new Set<string>();

export class RootLock {
  private released = false;
  private readonly onExit = (): void => {
    // Last resort on process exit (synchronous by necessity; never on a request path).
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  };

  private constructor(readonly path: string) {
    process.on('exit', this.onExit);
  }

  /** Takes the lock of `root`; throws InvalidState naming the owner when a live process holds it. */
  static async acquire(root: string): Promise<RootLock> {
    const path = join(root, 'lock');
    if (held.has(path)) {
      throw new VmkitError('InvalidState', `Root ${root} is already open in this process: close the other connection first`, { details: { root } });
    }
    const record = await ownerRecord();
    const tmp = join(root, `.lock.${randomBytes(6).toString('hex')}`);
    await writeFile(tmp, record, { mode: 0o600 });
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await link(tmp, path);
          held.add(path);
          return new RootLock(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw lockError(root, path, e);
        }
        const mine = (await readFile(path, 'utf8').catch(() => '')) === record; // ours, not held: a leftover
        if (!mine && (await ownerAlive(path))) {
          const owner = (await readFile(path, 'utf8').catch(() => '?')).trim().split(/\s+/)[0];
          throw new VmkitError('InvalidState', `Root ${root} is in use by process ${owner} (another vmkit driver or daemon); use that one, or stop it`, {
            details: { root, owner },
          });
        }
        await unlink(path).catch(() => undefined); // stale: its owner is gone
      }
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    held.delete(this.path);
    process.off('exit', this.onExit);
    await unlink(this.path).catch(() => undefined);
  }
}

function lockError(root: string, path: string, e: unknown): VmkitError {
  return new VmkitError('HostError', `Cannot lock root ${root} (${path}): ${(e as Error).message}`, { cause: e, details: { root } });
}
