/**
 * The body of the store writer thread (see store-writer.ts). In: {id, dir, file, data, mode, mkdir}.
 * Out: one message per batch, [{id, error?}]. Everything queued when a batch starts is one batch:
 *   1. each: mkdir (if asked), write `<dir>/.tmp-<file>.<n>` (exclusive create, mode);
 *   2. make the temporary files durable: syncfs(2) once per file system for a batch of several writes
 *      (group commit), else fsync of each file (all at once, so the file system commits them together);
 *   3. each: rename the temporary file over `<dir>/<file>`;
 *   4. make the renames (and new directories) durable: syncfs once per file system again, else fsync of
 *      each directory touched (and of the parent of each new directory).
 * VMKIT_NO_SYNCFS=1 turns syncfs off (it also flushes what other programs wrote to the file system).
 * A writer killed at any instant leaves the old or the new content of each file, never a torn one; a
 * write is reported done only after step 4 covered it. Batches never overlap. Synchronous calls except the
 * fsyncs: this thread does nothing else.
 */
import { closeSync, fstatSync, fsync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
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
/** Temporary names are unique to this thread's life (a pid may come back; leftovers of a killed writer may remain). */
const TAG = `${process.pid}-${randomBytes(4).toString('hex')}`;

interface Item extends WriteRequest {
  tmp?: string;
  /** The directory was created by this write: its entry in the parent must be made durable. */
  created?: boolean;
  /** The file system of the temporary file (group commit). */
  dev?: number;
  error?: unknown;
}

function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (e) => (e === null ? resolve() : reject(e))));
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** syncfs(2) of each file system (an open descriptor on each): undefined when it succeeded, else the error. */
function syncFileSystems(fsFds: Map<number, number>): Map<number, Error | undefined> {
  const result = new Map<number, Error | undefined>();
  for (const [dev, fd] of fsFds) {
    const rc = sys?.syncfs(fd) ?? -1;
    result.set(dev, rc === 0 ? undefined : new Error(`syncfs failed (errno ${sys?.errno() ?? '?'})`));
  }
  return result;
}

async function runBatch(items: Item[]): Promise<WriteReply[]> {
  const group = sys !== undefined && items.length >= SYNCFS_MIN_BATCH;
  // 1. temporary files, kept open until their data is durable. Group commit keeps one descriptor per
  //    file system open to the end, for the two syncfs calls.
  const fds = new Map<Item, number>();
  const fsFds = new Map<number, number>();
  try {
    for (const it of items) {
      try {
        if (it.mkdir) it.created = mkdirSync(it.dir, { recursive: true, mode: 0o700 }) !== undefined;
        it.tmp = join(it.dir, `${TEMP_PREFIX}${it.file}.${TAG}-${++counter}`);
        const fd = openSync(it.tmp, 'wx', it.mode);
        fds.set(it, fd);
        writeFileSync(fd, it.data);
        if (group) {
          it.dev = fstatSync(fd).dev;
          if (!fsFds.has(it.dev)) {
            fsFds.set(it.dev, fd);
            fds.delete(it); // closed at the end
          }
        }
      } catch (e) {
        it.error = e;
      }
    }
    // 2. the data: one syncfs per file system, or every file's fsync at once
    if (group) {
      const failed = syncFileSystems(fsFds);
      for (const it of items) if (it.error === undefined && it.dev !== undefined && failed.get(it.dev) !== undefined) it.error = failed.get(it.dev);
    } else {
      await Promise.all(
        [...fds].map(([it, fd]) =>
          it.error === undefined
            ? fsyncFd(fd).catch((e: unknown) => {
                it.error = e;
              })
            : undefined,
        ),
      );
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
  try {
    return await commit(items, group, fsFds);
  } finally {
    for (const fd of fsFds.values()) closeSync(fd);
  }
}

/** Steps 3 and 4: the renames, made durable. */
async function commit(items: Item[], group: boolean, fsFds: Map<number, number>): Promise<WriteReply[]> {
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
  if (group) {
    const failed = syncFileSystems(fsFds);
    for (const it of ok) if (it.dev !== undefined && failed.get(it.dev) !== undefined) it.error = failed.get(it.dev);
  } else {
    const failed = new Map<string, unknown>();
    await Promise.all(
      [...new Set([...dirs, ...parents])].map((d) =>
        fsyncPath(d).catch((e: unknown) => {
          failed.set(d, e);
        }),
      ),
    );
    for (const it of ok) {
      const e = failed.get(it.dir) ?? (it.created === true ? failed.get(dirname(it.dir)) : undefined);
      if (e !== undefined) it.error = e;
    }
  }
  return items.map((it): WriteReply => {
    if (it.error === undefined) return { id: it.id };
    const e = it.error as NodeJS.ErrnoException;
    return { id: it.id, error: { message: e instanceof Error ? e.message : String(e), ...(typeof e.code === 'string' ? { code: e.code } : {}) } };
  });
}

let queue: Item[] = [];
let busy = false;

/** Runs batches until the queue is empty; what arrives while a batch runs is the next batch. */
async function drain(): Promise<void> {
  busy = true;
  try {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      parentPort?.postMessage(await runBatch(batch));
    }
  } finally {
    busy = false;
  }
}

parentPort?.on('message', (m: WriteRequest) => {
  queue.push({ ...m });
  // Every message already delivered joins the batch (messages are delivered before immediates run).
  if (!busy) {
    busy = true;
    setImmediate(() => void drain());
  }
});
