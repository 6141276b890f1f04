/**
 * `vmkit image index DIR --sign KEY`: makes a folder of templates a repository virt-builder and vmkit can
 * use. Every template file (`*.xz`, `*.gz`, `*.zst`, `*.img`, `*.raw`, `*.qcow2`) gets an entry with its
 * SHA-512, its size (compressed_size) and its virtual size (read from the decompressed image: a raw image's
 * length, a qcow2 header's size field); what only a person can say (name, osinfo, arch, notes, aliases,
 * expand) is kept from the folder's existing `index`, and `revision` goes up when a file changed. Writes
 * `index`, and with a key the clearsigned `index.asc`. Runs locally: a daemon is never asked to read or
 * write a folder.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { VmkitError } from '../errors.js';
import { createDecoder, detectCompression } from './decompress.js';
import { hostArch, parseIndex, writeIndex, type IndexEntry } from './index-file.js';

const TEMPLATE = /^(.+?)(\.(raw|img|qcow2))?(\.(xz|gz|zst|zstd))?$/;
const WANTED = /\.(xz|gz|zst|zstd|img|raw|qcow2)$/;

export interface PublishOptions {
  /** Armoured private key file to clearsign the index with. */
  readonly signKey?: string;
  readonly passphrase?: string;
  /** Architecture of new entries (default: this host's). */
  readonly arch?: string;
}

export interface PublishResult {
  readonly index: string;
  readonly signed?: string;
  /** An index.asc from an earlier run, removed because this run wrote `index` without a key. */
  readonly removedStale?: string;
  readonly entries: readonly IndexEntry[];
}

export async function publishIndex(dir: string, opts: PublishOptions = {}): Promise<PublishResult> {
  const indexPath = join(dir, 'index');
  let old: IndexEntry[] = [];
  const oldText = await readFile(indexPath, 'utf8').catch(() => undefined);
  if (oldText !== undefined) old = parseIndex(oldText, pathToFileURL(indexPath).href);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.') && WANTED.test(n)).sort();
  } catch (e) {
    throw new VmkitError('NotFound', `Cannot read the folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
  if (names.length === 0) throw new VmkitError('InvalidArgument', `${dir} holds no template (files ending in .xz, .gz, .zst, .img, .raw or .qcow2)`);
  const entries: IndexEntry[] = [];
  for (const file of names) {
    const path = join(dir, file);
    if (!(await stat(path)).isFile()) continue;
    const m = TEMPLATE.exec(file) as RegExpExecArray;
    const prev = old.find((e) => e.file === file) ?? old.find((e) => e.id === m[1]);
    const facts = await readTemplate(path);
    const format = prev?.format ?? (m[3] === 'qcow2' || facts.qcow2 ? 'qcow2' : 'raw');
    const revision = prev === undefined ? 1 : prev.sha512 === undefined || prev.sha512 === facts.sha512 ? prev.revision : prev.revision + 1;
    entries.push({
      ...(prev ?? { id: m[1] as string, notes: [], hidden: false }),
      arch: prev?.arch ?? opts.arch ?? hostArch(),
      file,
      sha512: facts.sha512,
      revision,
      format,
      size: facts.virtualSize,
      compressedSize: facts.bytes,
    });
  }
  const text = writeIndex(entries);
  parseIndex(text, pathToFileURL(indexPath).href); // what is published must read back
  const signed = join(dir, 'index.asc');
  if (opts.signKey === undefined) {
    await writeAtomic(indexPath, text);
    // A signed index left from an earlier run would no longer match `index` (other checksums): it goes.
    const stale = await rm(signed).then(() => true, () => false);
    return { index: indexPath, entries, ...(stale ? { removedStale: signed } : {}) };
  }
  const { clearsign } = await import('./signature.js');
  const key = await readFile(opts.signKey, 'utf8').catch((e: unknown) => {
    throw new VmkitError('NotFound', `Cannot read the signing key ${opts.signKey ?? ''}: ${(e as Error).message}`, { cause: e });
  });
  const asc = await clearsign(text, key, opts.signKey, opts.passphrase); // before anything is written
  await writeAtomic(indexPath, text);
  await writeAtomic(signed, asc);
  return { index: indexPath, signed, entries };
}

/** SHA-512 and length of the file; virtual size of what it decompresses to (decompressed beside it, then removed). */
async function readTemplate(path: string): Promise<{ sha512: string; bytes: number; virtualSize: number; qcow2: boolean }> {
  const hash = createHash('sha512');
  let bytes = 0;
  const first = Buffer.alloc(6);
  const probe = await open(path, 'r');
  await probe.read(first, 0, 6, 0).finally(() => probe.close());
  const scratch = join(dirname(path), `.${basename(path)}.vmkit-size-${process.pid}`);
  const out = await open(scratch, 'wx+', 0o600);
  try {
    const decoder = createDecoder(detectCompression(first), path, out.fd);
    for await (const c of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      hash.update(c);
      bytes += c.length;
      if (!decoder.input.write(c)) await Promise.race([once(decoder.input, 'drain'), decoder.done]);
    }
    decoder.input.end();
    await decoder.done;
    const size = (await out.stat()).size;
    const head = Buffer.alloc(32);
    const { bytesRead } = await out.read(head, 0, 32, 0);
    const qcow2 = bytesRead >= 32 && head.readUInt32BE(0) === 0x514649fb;
    return { sha512: hash.digest('hex'), bytes, virtualSize: qcow2 ? Number(head.readBigUInt64BE(24)) : size, qcow2 };
  } finally {
    await out.close();
    await rm(scratch, { force: true });
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, path);
}
