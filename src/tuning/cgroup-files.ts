/** Small helpers for cgroup file operations: errors that name the file and errno, retries, a per-root lock. */
import { VmkitError } from '../errors.js';
import type { CgroupFs } from './cgroup-fs.js';

export function codeOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

export function hostError(action: string, path: string, e: unknown): VmkitError {
  if (e instanceof VmkitError) return e;
  const code = codeOf(e) ?? 'error';
  return new VmkitError('HostError', `Cannot ${action} (${path}): ${code}${e instanceof Error ? `: ${e.message.replace(/^[A-Z]+: /, '')}` : ''}`, {
    cause: e,
    details: { path, errno: code },
  });
}

export async function write(fs: CgroupFs, path: string, data: string, action?: string): Promise<void> {
  try {
    await fs.write(path, data);
  } catch (e) {
    throw hostError(action ?? `write '${data}' to ${path.split('/').pop()}`, path, e);
  }
}

export async function read(fs: CgroupFs, path: string): Promise<string> {
  try {
    return (await fs.read(path)).trim();
  } catch (e) {
    throw hostError(`read ${path.split('/').pop()}`, path, e);
  }
}

export async function ids(fs: CgroupFs, path: string): Promise<number[]> {
  const text = await read(fs, path);
  return text === '' ? [] : text.split('\n').map(Number);
}

/** mkdir; false when it already existed. */
export async function ensureDir(fs: CgroupFs, path: string): Promise<boolean> {
  try {
    await fs.mkdir(path);
    return true;
  } catch (e) {
    if (codeOf(e) === 'EEXIST') return false;
    throw hostError('create the cgroup', path, e);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** rmdir, retrying EBUSY for up to ~1 s (a group stays populated until its last task has fully exited). */
export async function removeDir(fs: CgroupFs, path: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rmdir(path);
      return;
    } catch (e) {
      const code = codeOf(e);
      if (code === 'ENOENT') return;
      if (code === 'EBUSY' && attempt < 20) {
        await sleep(50);
        continue;
      }
      throw hostError('remove the cgroup', path, e);
    }
  }
}

/** Moves each id into `file`, ignoring tasks that exited (ESRCH) or may not move (EINVAL: kernel threads). */
export async function moveAll(fs: CgroupFs, tids: readonly number[], file: string): Promise<void> {
  for (const tid of tids) {
    try {
      await fs.write(file, String(tid));
    } catch (e) {
      const code = codeOf(e);
      if (code !== 'ESRCH' && code !== 'EINVAL') throw hostError(`move task ${tid}`, file, e);
    }
  }
}

const locks = new Map<string, Promise<unknown>>();
export async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(key, tail);
  try {
    return await run;
  } finally {
    if (locks.get(key) === tail) locks.delete(key);
  }
}
