/**
 * One template download: the compressed bytes are appended to a part file (so a broken transfer resumes with
 * an HTTP range instead of starting again), hashed with SHA-512 and decompressed while they stream in; the
 * decompressed template is written to a temporary file beside the output and renamed into place only once
 * the whole download matched its checksum. A resumed download replays the part file through the hash and the
 * decoder first. Nothing unverified is ever left under the output's name.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { open, rename, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import { VmkitError } from '../errors.js';
import { createDecoder, detectCompression, type Compression, type Decoder } from './decompress.js';
import { openUrl } from './fetch.js';
import type { ProxyMode } from './repo-config.js';

/** A progress report (also the API's JSON progress event, with `type: 'progress'`). */
export interface Progress {
  readonly phase: 'download' | 'copy' | 'seed';
  /** What is being worked on (a URL, a file). */
  readonly what: string;
  readonly bytes: number;
  readonly total?: number;
  /** Bytes per second so far in this phase. */
  readonly rate: number;
  /** Seconds left, when the total is known. */
  readonly etaS?: number;
  /** Set when this transfer resumed a partial download at that byte. */
  readonly resumedAt?: number;
}

export interface TransferOptions {
  readonly url: string;
  readonly proxy?: ProxyMode;
  /** Expected SHA-512 of the downloaded (compressed) bytes; absent only with an unsigned, unchecked index. */
  readonly sha512?: string;
  /** Where the compressed bytes collect until the download is complete. */
  readonly partFile: string;
  /** The decompressed, verified result. */
  readonly output: string;
  readonly expectedBytes?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  /** Resumes after a broken transfer within this call (default 3). */
  readonly retries?: number;
  /** Idle time-out of the connection (default 60 s). */
  readonly idleMs?: number;
}

export interface TransferResult {
  readonly bytes: number;
  readonly decompressedBytes: number;
  readonly compression: Compression;
  readonly sha512: string;
  /** Byte offsets at which the transfer was resumed (from an earlier part file or a broken connection). */
  readonly resumedAt: readonly number[];
}

const PROGRESS_EVERY_MS = 200;
/** How often the output is flushed to disk in the background while it is written. */
const SYNC_EVERY_MS = 250;

/** Downloads, verifies and decompresses `url` into `output` (see the module comment). */
export async function transfer(opts: TransferOptions): Promise<TransferResult> {
  const resumedAt: number[] = [];
  const retries = opts.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    opts.signal?.throwIfAborted();
    try {
      const r = await attemptTransfer(opts, resumedAt);
      return { ...r, resumedAt };
    } catch (e) {
      if (!(e instanceof BrokenTransfer) || attempt >= retries || opts.signal?.aborted === true) {
        if (opts.signal?.aborted === true) throw new VmkitError('Aborted', `Download of ${opts.url} interrupted; the ${await partSize(opts.partFile)} bytes received so far are kept and the next attempt resumes from there`, { details: { url: opts.url } });
        throw e instanceof BrokenTransfer ? e.error : e;
      }
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }
}

/** A transfer that broke off (connection lost, truncated): worth resuming. */
class BrokenTransfer extends Error {
  constructor(readonly error: VmkitError) {
    super(error.message);
  }
}

async function partSize(file: string): Promise<number> {
  return stat(file).then((s) => s.size, () => 0);
}

async function attemptTransfer(opts: TransferOptions, resumedAt: number[]): Promise<Omit<TransferResult, 'resumedAt'>> {
  let have = await partSize(opts.partFile);
  let opened;
  try {
    opened = await openUrl(opts.url, { ...(opts.proxy === undefined ? {} : { proxy: opts.proxy }), offset: have, ...(opts.signal === undefined ? {} : { signal: opts.signal }), ...(opts.idleMs === undefined ? {} : { idleMs: opts.idleMs }) });
  } catch (e) {
    if (e instanceof VmkitError && (e.code === 'HostError' || e.code === 'Timeout') && e.details.status === undefined) throw new BrokenTransfer(e);
    throw e;
  }
  if (opened.start !== have) {
    await truncate(opts.partFile, 0).catch(() => undefined);
    have = 0;
  }
  if (have > 0) resumedAt.push(have);
  const total = opened.total ?? opts.expectedBytes;
  const hash = createHash('sha512');
  const tmp = join(dirname(opts.output), `.${basename(opts.output)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  const part = await open(opts.partFile, 'a', 0o600);
  let decoder: Decoder | undefined;
  let out: FileHandle | undefined;
  let syncTimer: NodeJS.Timeout | undefined;
  let compression: Compression = 'none';
  let bytes = 0;
  let outBytes = 0;
  let syncing: Promise<void> | undefined;
  let partWrites: Promise<unknown> = Promise.resolve();
  let pendingParts = 0;
  const started = performance.now();
  let lastReport = 0;
  const report = (force: boolean): void => {
    const now = performance.now();
    if (opts.onProgress === undefined || (!force && now - lastReport < PROGRESS_EVERY_MS)) return;
    lastReport = now;
    const secs = Math.max((now - started) / 1000, 1e-3);
    const rate = (bytes - have) / secs;
    opts.onProgress({
      phase: 'download',
      what: opened.url,
      bytes,
      ...(total === undefined ? {} : { total }),
      rate,
      ...(total === undefined || rate <= 0 ? {} : { etaS: Math.max(0, (total - bytes) / rate) }),
      ...(have > 0 ? { resumedAt: have } : {}),
    });
  };
  const feed = async (chunk: Buffer): Promise<void> => {
    if (decoder === undefined) {
      compression = detectCompression(chunk);
      out = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
      decoder = createDecoder(compression, opened.url, out.fd);
      // Flush to disk while decompressing (one sync at a time, on the thread pool), so that the final fsync
      // before the rename has only the tail left to write.
      const fh = out;
      syncTimer = setInterval(() => {
        if (syncing !== undefined) return;
        syncing = fh.datasync().catch(() => undefined).then(() => {
          syncing = undefined;
        });
      }, SYNC_EVERY_MS);
    }
    hash.update(chunk);
    bytes += chunk.length;
    if (!decoder.input.write(chunk)) await Promise.race([once(decoder.input, 'drain'), decoder.done]);
    report(false);
  };
  try {
    try {
      if (have > 0) for await (const c of createReadStream(opts.partFile, { end: have - 1, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) await feed(c);
      for await (const c of opened.body as AsyncIterable<Buffer>) {
        // The part file is appended to in order, without holding up the stream (at most 64 writes queued).
        pendingParts++;
        partWrites = partWrites.then(() => part.write(c)).finally(() => pendingParts--);
        if (pendingParts > 64) await partWrites;
        await feed(c);
      }
      await partWrites;
    } catch (e) {
      if (e instanceof VmkitError && ((e.code !== 'HostError' && e.code !== 'Timeout') || e.details.reason === 'decompress' || e.details.reason === 'write')) throw e;
      if (opts.signal?.aborted === true) throw e;
      throw new BrokenTransfer(new VmkitError('HostError', `Download of ${opened.url} broke off after ${bytes} bytes: ${(e as Error).message}`, { cause: e, details: { url: opened.url, bytes } }));
    }
    if (opened.total !== undefined && bytes < opened.total) {
      throw new BrokenTransfer(new VmkitError('HostError', `Download of ${opened.url} ended after ${bytes} of ${opened.total} bytes`, { details: { url: opened.url, bytes, total: opened.total } }));
    }
    opts.signal?.throwIfAborted();
    if (decoder === undefined) await feed(Buffer.alloc(0)); // an empty file
    const d = decoder as unknown as Decoder;
    d.input.end();
    await d.done;
    clearInterval(syncTimer);
    await syncing;
    const outFile = out as unknown as FileHandle;
    outBytes = (await outFile.stat()).size;
    const sum = hash.digest('hex');
    if (opts.sha512 !== undefined && sum !== opts.sha512.toLowerCase()) {
      await rm(opts.partFile, { force: true }); // never resume from bytes that do not add up
      throw new VmkitError('HostError', `The SHA-512 checksum of ${opened.url} does not match the index: the download is refused (found ${sum}, expected ${opts.sha512.toLowerCase()}); check that no one has tampered with the repository or your network`, {
        details: { url: opened.url, reason: 'checksum', found: sum, expected: opts.sha512.toLowerCase() },
      });
    }
    opts.signal?.throwIfAborted(); // an interrupted download is not put in place, even when complete
    await outFile.sync();
    await outFile.close();
    out = undefined;
    await rename(tmp, opts.output);
    report(true);
    await part.close().catch(() => undefined);
    await rm(opts.partFile, { force: true });
    return { bytes, decompressedBytes: outBytes, compression, sha512: sum };
  } catch (e) {
    // Bytes that do not decompress are not worth resuming from.
    if (e instanceof VmkitError && e.details.reason === 'decompress') await rm(opts.partFile, { force: true });
    (decoder as Decoder | undefined)?.kill();
    opened.body.destroy();
    await (decoder as Decoder | undefined)?.done.catch(() => undefined);
    await partWrites.catch(() => undefined);
    await syncing;
    await rm(tmp, { force: true });
    throw e;
  } finally {
    clearInterval(syncTimer);
    await (out as FileHandle | undefined)?.close().catch(() => undefined);
    await part.close().catch(() => undefined);
  }
}
