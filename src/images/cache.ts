/**
 * The template cache: one decompressed, verified template per os-version, architecture and revision
 * (`ID.ARCH.REVISION`, virt-builder's key), with a `.json` record of where it came from and its format
 * (taken from the index: a template is never probed; one without `format=` is used as raw). A download in
 * progress collects in `KEY.part` (kept for resuming) under a lock directory `KEY.lock` naming its process.
 * The cache directory is `$VMKIT_IMAGE_CACHE`, else `$XDG_CACHE_HOME/vmkit/images`, else
 * `/var/cache/vmkit/images` (root) or `~/.cache/vmkit/images`. Files are 0644 in 0755 directories, so QEMU's
 * own account can read the bases of overlays.
 */
import { mkdir, readdir, readFile, rm, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { VmkitError } from '../errors.js';

export function imageCacheDir(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? -1): string {
  if (env.VMKIT_IMAGE_CACHE !== undefined && env.VMKIT_IMAGE_CACHE.startsWith('/')) return env.VMKIT_IMAGE_CACHE;
  if (env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME.startsWith('/')) return join(env.XDG_CACHE_HOME, 'vmkit', 'images');
  if (uid === 0) return '/var/cache/vmkit/images';
  return join(env.HOME !== undefined && env.HOME.startsWith('/') ? env.HOME : homedir(), '.cache', 'vmkit', 'images');
}

/** A template in the cache. */
export interface CachedImage {
  readonly id: string;
  readonly arch: string;
  readonly revision: number;
  /** The decompressed template. */
  readonly path: string;
  /** Its format (from the index's format=, raw when it had none). */
  readonly format: string;
  /** Virtual size from the index. */
  readonly size: number;
  readonly sha512?: string;
  readonly source: string;
  readonly repo?: string;
  readonly name?: string;
  readonly downloadedAt: string;
}

const ID = /^[-A-Za-z0-9._]+$/;
const ARCH = /^[A-Za-z0-9_]+$/;

/** The cache key `ID.ARCH.REVISION`; refuses ids and architectures that could not be a plain file name. */
export function cacheKey(id: string, arch: string, revision: number): string {
  if (!ID.test(id) || !ARCH.test(arch) || !Number.isSafeInteger(revision) || revision < 0) {
    throw new VmkitError('InvalidArgument', `Cannot cache template ${JSON.stringify(id)} (${JSON.stringify(arch)}, revision ${revision}): ids are [-A-Za-z0-9._], architectures [A-Za-z0-9_]`);
  }
  return `${id}.${arch}.${revision}`;
}

export class ImageCache {
  constructor(readonly dir: string) {}

  paths(key: string): { image: string; record: string; part: string; lock: string } {
    return { image: join(this.dir, key), record: join(this.dir, `${key}.json`), part: join(this.dir, `${key}.part`), lock: join(this.dir, `${key}.lock`) };
  }

  async ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
  }

  /** The cached template, when both its file and its record are there. */
  async lookup(key: string): Promise<CachedImage | undefined> {
    const p = this.paths(key);
    try {
      const rec = JSON.parse(await readFile(p.record, 'utf8')) as CachedImage;
      if (!(await stat(p.image)).isFile()) return undefined;
      return { ...rec, path: p.image };
    } catch {
      return undefined;
    }
  }

  async record(key: string, img: Omit<CachedImage, 'path'>): Promise<CachedImage> {
    const p = this.paths(key);
    const tmp = `${p.record}.tmp-${process.pid}`;
    await writeFile(tmp, `${JSON.stringify(img, null, 2)}\n`, { mode: 0o644 });
    await rename(tmp, p.record);
    return { ...img, path: p.image };
  }

  /** Every cached template (records whose template file is there). */
  async list(): Promise<CachedImage[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const set = new Set(names);
    const out: CachedImage[] = [];
    for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
      const key = n.slice(0, -'.json'.length);
      if (!set.has(key)) continue;
      const img = await this.lookup(key);
      if (img !== undefined) out.push(img);
    }
    return out;
  }

  /** Takes the download lock of `key` (a directory naming this process); a dead owner's lock is taken over. */
  async lock(key: string): Promise<() => Promise<void>> {
    const { lock } = this.paths(key);
    for (let tries = 0; tries < 2; tries++) {
      try {
        await mkdir(lock, { mode: 0o700 });
        await writeFile(join(lock, 'pid'), String(process.pid));
        return () => rm(lock, { recursive: true, force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new VmkitError('HostError', `Cannot lock ${lock}: ${(e as Error).message}`, { cause: e });
        const owner = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => ''));
        if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
          throw new VmkitError('InvalidState', `Template ${key} is being downloaded by process ${owner}; wait for it to finish`, { details: { key, pid: owner } });
        }
        await rm(lock, { recursive: true, force: true });
      }
    }
    throw new VmkitError('HostError', `Cannot lock ${lock}`);
  }

  async remove(key: string): Promise<void> {
    const p = this.paths(key);
    await Promise.all([rm(p.image, { force: true }), rm(p.record, { force: true }), rm(p.part, { force: true })]);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
