/**
 * Writing a decompressed template into its file with holes where it is all zeros, as `cp --sparse` and
 * `qemu-img convert` do: disk images are mostly unwritten space, which then takes neither disk writes nor
 * room in the cache. A chunk that is all zeros is skipped; the others are written at their offset (a few at
 * a time, on the thread pool); the file is then cut to the stream's length.
 */
import { ftruncate, write } from 'node:fs';
import { promisify } from 'node:util';
import { VmkitError } from '../errors.js';

const writeAt = promisify(write);
const truncateFd = promisify(ftruncate);
const ZEROS = Buffer.alloc(256 * 1024);
/** Writes in flight at once. */
const DEPTH = 8;

/** True when every byte of `b` is 0 (memcmp against a zero page, a slice at a time). */
export function isZero(b: Uint8Array): boolean {
  for (let at = 0; at < b.length; at += ZEROS.length) {
    const part = b.subarray(at, Math.min(b.length, at + ZEROS.length));
    if (!ZEROS.subarray(0, part.length).equals(part)) return false;
  }
  return true;
}

/** Writes `source` into the open, empty file `fd` from offset 0 (see the module comment); resolves to its length. */
export async function writeSparse(source: AsyncIterable<Buffer>, fd: number, what: string): Promise<number> {
  let pos = 0;
  const inflight = new Set<Promise<unknown>>();
  let failed: unknown;
  const fail = (e: unknown): VmkitError => new VmkitError('HostError', `Cannot write ${what}: ${(e as Error).message}`, { cause: e, details: { reason: 'write' } });
  for await (const chunk of source) {
    if (!isZero(chunk)) {
      const p: Promise<unknown> = writeAt(fd, chunk, 0, chunk.length, pos)
        .catch((e: unknown) => {
          failed ??= e;
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= DEPTH) await Promise.race(inflight);
      if (failed !== undefined) throw fail(failed);
    }
    pos += chunk.length;
  }
  await Promise.all(inflight);
  if (failed !== undefined) throw fail(failed);
  await truncateFd(fd, pos).catch((e: unknown) => {
    throw fail(e);
  });
  return pos;
}
