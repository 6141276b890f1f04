/**
 * Decompressing a template while it downloads. The kind comes from the first bytes (magic numbers), never
 * from the file name. xz and zstd go through Debian's `xz -dc -T0` and `zstd -dc` (fixed argv, no shell): about
 * twice as fast as the WASM xz decoder measured on npm (xz-decompress: 1.05 s against 0.46 s for 130 MB out
 * of 30 MB), and xz-utils / zstd are Debian packages set-up installs; gzip uses node:zlib.
 */
import { spawn } from 'node:child_process';
import { PassThrough, type Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { VmkitError } from '../errors.js';
import { writeSparse } from './sparse-write.js';

export type Compression = 'xz' | 'zstd' | 'gzip' | 'none';

/** The compression of a stream whose first bytes are `head` (at least 6 bytes, or the whole stream). */
export function detectCompression(head: Uint8Array): Compression {
  const is = (...magic: number[]): boolean => magic.every((b, i) => head[i] === b);
  if (is(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (is(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (is(0x1f, 0x8b)) return 'gzip';
  return 'none';
}

export interface Decoder {
  /** Compressed bytes go in here. */
  readonly input: Writable;
  /** Resolves when the decoder finished cleanly and everything is written to the output; rejects naming what failed. */
  readonly done: Promise<void>;
  /** Stops it (on failure or abort). */
  kill(): void;
}

const TOOLS = { xz: { file: 'xz', pkg: 'xz-utils' }, zstd: { file: 'zstd', pkg: 'zstd' } } as const;

/**
 * A decoder for `kind` writing into the open, empty file `outFd`. gzip and uncompressed templates are written
 * from this process with holes where they are all zeros (sparse-write.ts); xz and zstd run as their own
 * processes (fixed argv) that write into the file directly.
 */
export function createDecoder(kind: Compression, what: string, outFd: number): Decoder {
  if (kind === 'none' || kind === 'gzip') {
    const head: PassThrough | ReturnType<typeof createGunzip> = kind === 'none' ? new PassThrough({ highWaterMark: 1024 * 1024 }) : createGunzip({ chunkSize: 256 * 1024 });
    const done = writeSparse(head as AsyncIterable<Buffer>, outFd, what).then(
      () => undefined,
      (e: unknown) => {
        if (e instanceof VmkitError) throw e;
        throw new VmkitError('HostError', `Cannot decompress ${what} (gzip): ${(e as Error).message}`, { cause: e, details: { reason: 'decompress' } });
      },
    );
    done.catch(() => undefined);
    return { input: head, done, kill: () => head.destroy() };
  }
  const tool = TOOLS[kind];
  // xz -T0: multi-threaded decompression of multi-block files (xz 5.4; virt-builder uses a parallel xzcat too).
  // The tool writes into the file itself (its standard output is the file): reading 64 KiB pipe chunks back
  // into this process to leave holes measured slower (a bench run: 1.5-2.5 s against 1.2-1.4 s for 256 MiB).
  const child = spawn(tool.file, kind === 'xz' ? ['-dc', '-T0'] : ['-dc'], { stdio: ['pipe', outFd, 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  child.stdin?.on('error', () => undefined); // EPIPE when the tool failed: reported through `done`
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(new VmkitError('HostError', e.code === 'ENOENT' ? `Cannot decompress ${what}: '${tool.file}' is missing: install the Debian package ${tool.pkg}` : `Cannot run ${tool.file}: ${e.message}`, { cause: e, details: { reason: 'decompress' } })),
    );
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new VmkitError('HostError', `Cannot decompress ${what} (${kind}): ${tool.file} ${signal === null ? `exited with ${String(code)}` : `was killed (${signal})`}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`, { details: { reason: 'decompress' } }));
    });
  });
  done.catch(() => undefined); // a failure is reported to whoever awaits `done`; after a kill nobody does
  return {
    input: child.stdin as Writable,
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
