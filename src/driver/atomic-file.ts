/**
 * Crash-safe file replacement: write a temporary file in the same directory, fsync it, rename it over the
 * target, fsync the directory. A kill at any instant leaves the old or the new content, never a torn file.
 * Directory fsyncs are shared: renames in one directory that wait at the same time are covered by one
 * fsync of that directory (group commit), which keeps hundreds of concurrent defines cheap.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { VmkitError } from '../errors.js';

/** Temporary files start with this prefix; loaders skip and sweep them. */
export const TEMP_PREFIX = '.tmp-';

export interface AtomicWriteOptions {
  /** File mode of the new file (default 0o600). */
  readonly mode?: number;
  /** Skip the fsyncs (tests, throw-away roots). Default false. */
  readonly noSync?: boolean;
}

/** Replaces `path` with `data` atomically and durably (write, fsync, rename, fsync the directory). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `${TEMP_PREFIX}${basename(path)}.${randomBytes(6).toString('hex')}`);
  try {
    const fh = await open(tmp, 'wx', opts.mode ?? 0o600);
    try {
      await fh.writeFile(data);
      if (opts.noSync !== true) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new VmkitError('HostError', `Cannot write ${path}: ${(e as Error).message}`, { cause: e, details: { path } });
  }
  if (opts.noSync !== true) await syncDir(dir);
}

/** Creates `dir` (and parents) and makes its entry durable in its parent. */
export async function mkdirDurable(dir: string, mode = 0o700, noSync = false): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
  if (!noSync) await syncDir(dirname(dir));
}

interface DirSync {
  /** The fsync running now. */
  running: Promise<void>;
  /** The fsync that starts when `running` ends, shared by everyone who arrived meanwhile. */
  next: Promise<void> | undefined;
}

const dirSyncs = new Map<string, DirSync>();

/**
 * fsyncs a directory. Callers that arrive while one fsync runs share the single fsync that follows it (it
 * covers every rename done before it started), so N concurrent renames cost at most two fsyncs.
 */
export function syncDir(dir: string): Promise<void> {
  const current = dirSyncs.get(dir);
  if (current === undefined) {
    const entry: DirSync = { running: fsyncDir(dir), next: undefined };
    dirSyncs.set(dir, entry);
    void entry.running.then(
      () => promote(dir, entry),
      () => promote(dir, entry),
    );
    return entry.running;
  }
  current.next ??= current.running.then(
    () => fsyncDir(dir),
    () => fsyncDir(dir),
  );
  return current.next;
}

function promote(dir: string, entry: DirSync): void {
  if (entry.next === undefined) {
    dirSyncs.delete(dir);
    return;
  }
  const next: DirSync = { running: entry.next, next: undefined };
  dirSyncs.set(dir, next);
  void next.running.then(
    () => promote(dir, next),
    () => promote(dir, next),
  );
}

async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // removed meanwhile: nothing left to persist
    throw new VmkitError('HostError', `Cannot sync directory ${dir}: ${(e as Error).message}`, { cause: e, details: { dir } });
  } finally {
    await fh?.close();
  }
}
