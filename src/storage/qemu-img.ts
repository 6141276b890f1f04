/**
 * qemu-img, run with a fixed argument vector (never a shell), the format always given (`-f`, `-F`, `-O`:
 * vmkit never lets qemu-img probe a format), paths always absolute (so none reads as a protocol prefix like
 * `json:` or `nbd:`), every run bounded by a time-out and an AbortSignal. `info` is read from its JSON output.
 */
import { spawn } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { VmkitError } from '../errors.js';

export interface QemuImgOptions {
  readonly signal?: AbortSignal;
  /** Default 120 s (conversions of large images: give more). */
  readonly timeoutMs?: number;
  /** `-p` output of convert, as a fraction 0..1. */
  readonly onProgress?: (fraction: number) => void;
  /** Run as this account (files it creates are that account's). */
  readonly uid?: number;
  readonly gid?: number;
}

/** What `qemu-img info --output=json` says about an image (the fields vmkit uses). */
export interface ImageInfo {
  readonly format: string;
  readonly virtualSize: number;
  readonly actualSize?: number;
  readonly backingFile?: string;
  readonly backingFormat?: string;
  readonly clusterSize?: number;
  readonly dirty?: boolean;
}

function requireAbsolute(...paths: string[]): void {
  for (const p of paths) {
    if (!isAbsolute(p)) throw new VmkitError('InvalidArgument', `qemu-img is only given absolute paths, got ${JSON.stringify(p)}`);
  }
}

/** Runs `qemu-img ARGS`; resolves with its standard output, rejects with its error output. */
export function qemuImg(args: readonly string[], opts: QemuImgOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-img', [...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.uid === undefined ? {} : { uid: opts.uid }),
      ...(opts.gid === undefined ? {} : { gid: opts.gid }),
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      if (opts.onProgress !== undefined) {
        const m = /\((\d+(?:\.\d+)?)\/100%\)[^(]*$/.exec(s);
        if (m !== null) opts.onProgress(Number(m[1]) / 100);
        return;
      }
      if (out.length < 16 * 1024 * 1024) out += s;
    });
    child.stderr.on('data', (s: string) => {
      if (err.length < 8192) err += s;
    });
    const timeoutMs = opts.timeoutMs ?? 120_000;
    let why: VmkitError | undefined;
    const stop = (e: VmkitError): void => {
      why ??= e;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(new VmkitError('Timeout', `qemu-img ${args[0] ?? ''} did not finish within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = (): void => stop(new VmkitError('Aborted', `qemu-img ${args[0] ?? ''} was interrupted`));
    if (opts.signal?.aborted === true) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new VmkitError('HostError', e.code === 'ENOENT' ? 'qemu-img is missing: install the Debian package qemu-utils' : `Cannot run qemu-img: ${e.message}`, { cause: e }));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (why !== undefined) return reject(why);
      if (code === 0) return resolve(out);
      const msg = err.trim().replace(/^qemu-img: /gm, '');
      reject(new VmkitError('HostError', `qemu-img ${args[0] ?? ''} failed: ${msg === '' ? `exit status ${String(code)}` : msg}`, { details: { exitCode: code, stderr: msg } }));
    });
  });
}

/** `qemu-img info` of an image in a known format (`-U`: also while QEMU has it open). */
export async function imageInfo(path: string, format: string, opts: QemuImgOptions = {}): Promise<ImageInfo> {
  requireAbsolute(path);
  const text = await qemuImg(['info', '--output=json', '-U', '-f', format, path], opts);
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new VmkitError('HostError', `qemu-img info printed something that is not JSON for ${path}`, { cause: e });
  }
  const num = (k: string): number | undefined => (typeof j[k] === 'number' ? (j[k] as number) : undefined);
  const str = (k: string): string | undefined => (typeof j[k] === 'string' ? (j[k] as string) : undefined);
  const virtualSize = num('virtual-size');
  if (virtualSize === undefined) throw new VmkitError('HostError', `qemu-img info gave no virtual-size for ${path}`);
  const backing = str('full-backing-filename') ?? str('backing-filename');
  const out: ImageInfo = {
    format: str('format') ?? format,
    virtualSize,
    ...(num('actual-size') === undefined ? {} : { actualSize: num('actual-size') as number }),
    ...(backing === undefined ? {} : { backingFile: backing }),
    ...(str('backing-filename-format') === undefined ? {} : { backingFormat: str('backing-filename-format') as string }),
    ...(num('cluster-size') === undefined ? {} : { clusterSize: num('cluster-size') as number }),
    ...(typeof j['dirty-flag'] === 'boolean' ? { dirty: j['dirty-flag'] } : {}),
  };
  return out;
}

/** A new empty image. */
export async function createImage(path: string, format: string, size: number, opts: QemuImgOptions = {}): Promise<void> {
  requireAbsolute(path);
  await qemuImg(['create', '-q', '-f', format, path, String(size)], opts);
}

/** Grows (or with `shrink`, shrinks) an image to `size` bytes. */
export async function resizeImage(path: string, format: string, size: number, opts: QemuImgOptions & { shrink?: boolean } = {}): Promise<void> {
  requireAbsolute(path);
  await qemuImg(['resize', '-q', '-f', format, ...(opts.shrink === true ? ['--shrink'] : []), path, String(size)], opts);
}

/** Copies `src` into a new image `dst` in another (or the same) format, sparse. */
export async function convertImage(src: string, srcFormat: string, dst: string, dstFormat: string, opts: QemuImgOptions = {}): Promise<void> {
  requireAbsolute(src, dst);
  await qemuImg(['convert', ...(opts.onProgress === undefined ? ['-q'] : ['-p']), '-f', srcFormat, '-O', dstFormat, src, dst], { timeoutMs: 3_600_000, ...opts });
}
