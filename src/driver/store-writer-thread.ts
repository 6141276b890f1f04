/**
 * The body of the store writer thread (see store-writer.ts). In: {id, dir, file, data, mode, mkdir}.
 * Out: one message per batch, [{id, error?}]. Everything queued when a batch starts is one batch:
 *   1. each: mkdir (if asked), write `<dir>/.tmp-<file>.<n>` (exclusive create, mode);
 *   2. make the temporary files durable: syncfs(2) once per file system for a batch of several writes
 *      (group commit), else fsync of each file;
 *   3. each: rename the temporary file over `<dir>/<file>`;
 *   4. make the renames (and new directories) durable: syncfs once per file system again, else fsync of
 *      each directory touched (and of the parent of each new directory).
 * A writer killed at any instant leaves the old or the new content of each file, never a torn one; a
 * write is reported done only after step 4 covered it. Synchronous calls: this thread does nothing else.
 */
import { closeSync, fsyncSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { TEMP_PREFIX } from './atomic-file.js';

export interface WriteRequest {
  readonly id: number;
  readonly dir: string;
  readonly file: string;
  readonly data: string;
  readonly mode: number;
  /** Create `dir` (mode 0o700) and make its entry durable in its parent. */
  readonly mkdir: boolean;
}

export interface WriteReply {
  readonly id: number;
  readonly error?: { readonly message: string; readonly code?: string };
}

/** Smallest batch that is made durable with syncfs(2) rather than one fsync per file and directory. */
export const SYNCFS_MIN_BATCH = 4;

type SyncFs = (fd: number) => number;

function loadSyncfs(): { syncfs: SyncFs; errno: () => number } | undefined {
  if (process.platform !== 'linux' || process.env.VMKIT_NO_SYNCFS === '1') return undefined;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as {
      load(name: string): { func(decl: string): SyncFs };
      errno(): number;
    };
    return { syncfs: koffi.load('libc.so.6').func('int syncfs(int fd)'), errno: () => koffi.errno() };
  } catch {
    return undefined;
  }
}

const sys = loadSyncfs();
let counter = 0;

interface Item extends WriteRequest {
  tmp?: string;
  /** The directory was created by this write: its entry in the parent must be made durable. */
  created?: boolean;
  error?: unknown;
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** syncfs(2) of the file system holding each directory, once per file system; failures go to `failed`. */
function syncFileSystems(dirs: Iterable<string>): Map<string, unknown> {
  const done = new Map<number, unknown>();
  const byDir = new Map<string, unknown>();
  for (const dir of dirs) {
    let fd: number | undefined;
    try {
      fd = openSync(dir, 'r');
      const dev = fstatSync(fd).dev;
      if (!done.has(dev)) {
        const rc = sys?.syncfs(fd) ?? -1;
        done.set(dev, rc === 0 ? undefined : new Error(`syncfs failed (errno ${sys?.errno() ?? '?'})`));
      }
      byDir.set(dir, done.get(dev));
    } catch (e) {
      byDir.set(dir, e);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return byDir;
}

function runBatch(items: Item[]): WriteReply[] {
  const group = sys !== undefined && items.length >= SYNCFS_MIN_BATCH;
  // 1. temporary files (each fsync'd here unless the batch is group-committed)
  for (const it of items) {
    try {
      if (it.mkdir) it.created = mkdirSync(it.dir, { recursive: true, mode: 0o700 }) !== undefined;
      it.tmp = join(it.dir, `${TEMP_PREFIX}${it.file}.${process.pid}-${++counter}`);
      const fd = openSync(it.tmp, 'wx', it.mode);
      try {
        writeFileSync(fd, it.data);
        if (!group) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      it.error = e;
    }
  }
  // 2. group commit of the data
  if (group) {
    const failed = syncFileSystems(new Set(items.filter((it) => it.error === undefined).map((it) => it.dir)));
    for (const it of items) if (it.error === undefined && failed.get(it.dir) !== undefined) it.error = failed.get(it.dir);
  }
  // 3. renames
  for (const it of items) {
    if (it.tmp === undefined) continue;
    if (it.error === undefined) {
      try {
        renameSync(it.tmp, join(it.dir, it.file));
        continue;
      } catch (e) {
        it.error = e;
      }
    }
    rmSync(it.tmp, { force: true });
  }
  // 4. the renames and new directory entries
  const ok = items.filter((it) => it.error === undefined);
  const dirs = new Set(ok.map((it) => it.dir));
  const parents = new Set(ok.filter((it) => it.created === true).map((it) => dirname(it.dir)));
  let failed: Map<string, unknown>;
  if (group) {
    failed = syncFileSystems(dirs);
  } else {
    failed = new Map();
    for (const d of [...dirs, ...parents]) {
      try {
        fsyncPath(d);
      } catch (e) {
        failed.set(d, e);
      }
    }
  }
  for (const it of ok) {
    const e = failed.get(it.dir) ?? (it.created === true ? failed.get(dirname(it.dir)) : undefined);
    if (e !== undefined) it.error = e;
  }
  return items.map((it): WriteReply => {
    if (it.error === undefined) return { id: it.id };
    const e = it.error as NodeJS.ErrnoException;
    return { id: it.id, error: { message: e instanceof Error ? e.message : String(e), ...(typeof e.code === 'string' ? { code: e.code } : {}) } };
  });
}

let queue: Item[] = [];
let scheduled = false;

parentPort?.on('message', (m: WriteRequest) => {
  queue.push({ ...m });
  if (scheduled) return;
  scheduled = true;
  // Every message already delivered joins this batch.
  setImmediate(() => {
    scheduled = false;
    const batch = queue;
    queue = [];
    parentPort?.postMessage(runBatch(batch));
  });
});
