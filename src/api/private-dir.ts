/**
 * A session daemon's socket directory (`$TMPDIR/vmkit-UID` or `$XDG_RUNTIME_DIR/vmkit`): created mode 0700,
 * and used only when it is a directory (not a symbolic link) owned by this user with mode 0700. In a shared
 * /tmp another user could have made it first, to replace the socket or listen in our stead.
 */
import type { Stats } from 'node:fs';
import { lstat, mkdir } from 'node:fs/promises';
import { VmkitError } from '../errors.js';

function describe(st: Stats): string {
  const kind = st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a directory' : 'not a directory';
  return `${kind} owned by uid ${st.uid} with mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}`;
}

/** Creates `dir` (mode 0700) or checks the one there; throws HostError when it is not private to us. */
export async function ensurePrivateDir(dir: string, uid: number = process.getuid?.() ?? 0): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new VmkitError('HostError', `Cannot create the socket directory ${dir}: ${(e as Error).message}`, { cause: e, details: { dir } });
    }
  }
  const st = await lstat(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o7777) !== 0o700) {
    throw new VmkitError(
      'HostError',
      `The socket directory ${dir} is ${describe(st)}, not a directory of uid ${uid} with mode 0700: another user may have made it to take over the daemon's socket; remove it (or set XDG_RUNTIME_DIR, or pass --socket) and start again`,
      { details: { dir, uid: st.uid, mode: st.mode & 0o7777, reason: 'socket-dir' } },
    );
  }
}
