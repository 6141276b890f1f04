import { lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownerAlive, ownerRecord } from './state-dir.js';

const PREFIX = 'vmkit-run-';

/** The base directory for throw-away roots: $XDG_RUNTIME_DIR when set, else the system temp dir. */
export function privateRootBase(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_RUNTIME_DIR !== undefined && env.XDG_RUNTIME_DIR !== '' ? env.XDG_RUNTIME_DIR : tmpdir();
}

/**
 * Creates a fresh private root (mode 0700) for one `vmkit run`, recording its owner so that a later run can
 * sweep it if this process is killed before it can remove it.
 */
export async function createPrivateRoot(base = privateRootBase()): Promise<string> {
  const dir = await mkdtemp(join(base, PREFIX));
  await writeFile(join(dir, 'owner'), await ownerRecord(), { mode: 0o600 });
  return dir;
}

export async function removePrivateRoot(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
}

/**
 * True when `dir` is one of our private roots: a directory (never a symbolic link) owned by this user with
 * mode 0700, as createPrivateRoot makes them. In a shared temp dir, other users' `vmkit-run-*` entries (and
 * anything made to look like one) are not ours to remove.
 */
async function ours(dir: string, uid: number): Promise<boolean> {
  const st = await lstat(dir).catch(() => undefined);
  return st !== undefined && st.isDirectory() && st.uid === uid && (st.mode & 0o7777) === 0o700;
}

/** Removes this user's private roots left behind by vmkit processes that no longer exist. */
export async function sweepStalePrivateRoots(base = privateRootBase(), uid: number = process.getuid?.() ?? 0): Promise<string[]> {
  let entries: string[];
  try {
    entries = (await readdir(base)).filter((e) => e.startsWith(PREFIX));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    const dir = join(base, e);
    if (!(await ours(dir, uid))) continue;
    if (await ownerAlive(join(dir, 'owner'))) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
