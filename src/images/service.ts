/**
 * `conn.images` of an embedded connection (and of the daemon): repositories read from the configuration,
 * indexes verified against their keys, templates downloaded into the cache (SHA-512 checked, decompressed
 * while streaming, resumable), disks built from them with an optional cloud-init seed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import { VmkitError, type Problem } from '../errors.js';
import { hasCustomization, seedImage } from '../storage/cloud-init.js';
import { convertImage, resizeImage } from '../storage/qemu-img.js';
import { writeFile } from 'node:fs/promises';
import type { VolumeService } from '../storage/volumes.js';
import { writeOverlay } from '../storage/volumes.js';
import { cacheKey, ImageCache, type CachedImage } from './cache.js';
import { clearsignedBody, isClearsigned } from './clearsigned.js';
import { fetchBytes } from './fetch.js';
import { findTemplate, hostArch, mergeIndexes, parseIndex, templateUrl } from './index-file.js';
import { decodeUtf8 } from './ini.js';
import { readRepos, repoDirs, type RepoConfig } from './repo-config.js';
import { transfer } from './transfer.js';
import type { BuildOptions, BuildResult, CatalogEntry, GetOptions, ImageCatalog, ImagesApi, RepoOptions } from './types.js';

export interface ImageServiceOptions {
  readonly cacheDir: string;
  /** repos.d directories (default: repo-config.ts repoDirs()). */
  readonly repoDirs?: readonly string[];
  /** Where `build` writes volumes. */
  readonly volumes?: VolumeService;
}

interface Catalog extends ImageCatalog {
  readonly templates: readonly (CatalogEntry & { readonly url: string; readonly proxy: RepoConfig['proxy'] })[];
}

export class ImageService implements ImagesApi {
  readonly cache: ImageCache;
  private readonly inFlight = new Map<string, Promise<CachedImage>>();

  constructor(private readonly opts: ImageServiceOptions) {
    this.cache = new ImageCache(opts.cacheDir);
  }

  async list(opts: RepoOptions = {}): Promise<ImageCatalog> {
    const c = await this.catalog(opts);
    return { sources: c.sources, templates: c.templates.map(({ url: _u, proxy: _p, ...e }) => e), warnings: c.warnings };
  }

  async notes(id: string, opts: RepoOptions & { arch?: string } = {}): Promise<{ id: string; arch: string; notes: CatalogEntry['notes'] }> {
    const e = this.pick(await this.catalog(opts), id, opts.arch);
    return { id: e.id, arch: e.arch, notes: e.notes };
  }

  cached(): Promise<CachedImage[]> {
    return this.cache.list();
  }

  /** The newest cached revision of template `id` (on `arch`, default this host's), without the network. */
  async findCached(id: string, arch?: string): Promise<CachedImage | undefined> {
    const wanted = arch ?? hostArch();
    const all = (await this.cache.list()).filter((c) => c.id === id && c.arch === wanted);
    return all.sort((a, b) => b.revision - a.revision)[0];
  }

  async get(id: string, opts: GetOptions = {}): Promise<CachedImage> {
    const e = this.pick(await this.catalog(opts), id, opts.arch);
    const key = cacheKey(e.id, e.arch, e.revision);
    const cached = await this.cache.lookup(key);
    if (cached !== undefined) return cached;
    if (e.sha512 === undefined && opts.noCheckSignature !== true) {
      throw new VmkitError('HostError', `Template '${e.id}' has no checksum[sha512]= in its index, and every download is checked before use: ask the repository to add it, or pass --no-check-signature`, { details: { id: e.id } });
    }
    let running = this.inFlight.get(key);
    if (running === undefined) {
      running = this.download(e, key, opts).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, running);
    }
    return running;
  }

  async build(id: string, opts: BuildOptions): Promise<BuildResult> {
    const format = opts.format ?? 'raw';
    if (format !== 'raw' && format !== 'qcow2') throw new VmkitError('InvalidArgument', `--format must be raw or qcow2, got ${JSON.stringify(format)}`);
    const customize = opts.customize;
    const wantSeed = hasCustomization(customize);
    if (wantSeed) seedImage(customize, 'check'); // bad customizations fail before anything is downloaded
    const target = await this.outputTarget(opts, format);
    const image = await this.get(id, opts);
    const size = opts.size ?? image.size;
    if (size < image.size) throw new VmkitError('InvalidArgument', `Images cannot be shrunk: --size ${size} is below the template's ${image.size} bytes`, { details: { size, minimum: image.size } });
    const rootPassword = customize?.rootPassword === RANDOM_PASSWORD ? randomBytes(15).toString('base64url') : undefined;
    const seedContent = wantSeed ? seedImage({ ...customize, ...(rootPassword === undefined ? {} : { rootPassword }) }, `vmkit-${randomUUID()}`) : undefined;
    const signal = opts.signal;
    const progress = (fraction: number): void => opts.onProgress?.({ phase: 'copy', what: target.describe, bytes: Math.round(fraction * size), total: size, rate: 0 });
    const fill = async (tmp: string): Promise<void> => {
      if (format === 'qcow2' && opts.standalone !== true) {
        await writeOverlay(tmp, size, image.path, image.format);
        signal?.throwIfAborted();
        return;
      }
      await convertImage(image.path, image.format, tmp, format, { ...(signal === undefined ? {} : { signal }), onProgress: progress });
      if (size > image.size) await resizeImage(tmp, format, size, signal === undefined ? {} : { signal });
      signal?.throwIfAborted();
    };
    const seedFill = async (tmp: string): Promise<void> => {
      await writeFile(tmp, seedContent as Uint8Array, { flag: 'wx', mode: 0o600 });
      signal?.throwIfAborted();
    };
    const made = await target.make(fill, seedContent === undefined ? undefined : seedFill);
    return {
      image,
      output: made.output,
      format,
      size,
      ...(made.volume === undefined ? {} : { volume: made.volume }),
      ...(made.seed === undefined ? {} : { seed: made.seed }),
      ...(made.seedVolume === undefined ? {} : { seedVolume: made.seedVolume }),
      ...(rootPassword === undefined ? {} : { rootPassword }),
    };
  }

  // ---- internals ---------------------------------------------------------------------------------------

  /** Reads the configured repositories and their indexes (each verified unless told not to). */
  private async catalog(opts: RepoOptions): Promise<Catalog> {
    const { repos, warnings } = await readRepos(this.opts.repoDirs ?? repoDirs());
    if (repos.length === 0) {
      throw new VmkitError('NotFound', `No template repository is configured: add a .conf file (uri=..., gpgkey=file:///...) to one of ${(this.opts.repoDirs ?? repoDirs()).join(', ')}`, {
        details: { dirs: this.opts.repoDirs ?? repoDirs(), problems: warnings },
      });
    }
    const lists = await Promise.all(repos.map((r) => this.readIndex(r, opts)));
    return {
      sources: repos.map((r) => ({ uri: r.uri, ...(r.gpgkey === undefined ? {} : { key: r.gpgkey }) })),
      templates: mergeIndexes(lists),
      warnings: warnings as Problem[],
    };
  }

  private async readIndex(r: RepoConfig, opts: RepoOptions): Promise<Catalog['templates'][number][]> {
    const raw = await fetchBytes(r.uri, { proxy: r.proxy, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
    const text = decodeUtf8(raw);
    if (text === undefined) throw new VmkitError('HostError', `The index ${r.uri} is not valid UTF-8`, { details: { uri: r.uri } });
    let body: string;
    if (opts.noCheckSignature === true) {
      body = isClearsigned(text) ? (clearsignedBody(text) ?? '') : text;
    } else if (r.gpgkey === undefined) {
      throw new VmkitError('HostError', `Repository '${r.name}' (${r.file}) names no gpgkey=, so its index ${r.uri} cannot be checked: add gpgkey=file:///path/to/key.asc, or pass --no-check-signature`, { details: { repo: r.name, uri: r.uri, reason: 'signature' } });
    } else {
      const { readPublicKeys, verifyIndex } = await import('./signature.js');
      let keyBytes: Buffer;
      try {
        keyBytes = await readFile(r.gpgkey);
      } catch (e) {
        throw new VmkitError('HostError', `Cannot read the key ${r.gpgkey} of repository '${r.name}' (${r.file}): ${(e as Error).message}`, { cause: e });
      }
      body = (await verifyIndex(text, await readPublicKeys(keyBytes, r.gpgkey), r.uri, r.gpgkey)).text;
    }
    return parseIndex(body, r.uri).map((e) => {
      const u = templateUrl(r.uri, e.file);
      return { ...e, repo: r.name, url: 'url' in u ? u.url : '', proxy: r.proxy };
    });
  }

  private pick(c: Catalog, id: string, arch: string | undefined): Catalog['templates'][number] {
    const wanted = arch ?? hostArch();
    const e = findTemplate(c.templates, id, wanted);
    if (e === undefined) {
      const other = c.templates.filter((t) => t.id === id).map((t) => t.arch);
      throw new VmkitError('NotFound', `Cannot find os-version '${id}' with architecture '${wanted}'${other.length > 0 ? ` (it exists for ${other.join(', ')}: use --arch)` : ''}; vmkit image list shows the templates`, {
        details: { id, arch: wanted },
      });
    }
    return e;
  }

  private async download(e: Catalog['templates'][number], key: string, opts: GetOptions): Promise<CachedImage> {
    await this.cache.ensureDir();
    const unlock = await this.cache.lock(key);
    try {
      const again = await this.cache.lookup(key);
      if (again !== undefined) return again;
      const p = this.cache.paths(key);
      await transfer({
        url: e.url,
        proxy: e.proxy,
        ...(e.sha512 === undefined ? {} : { sha512: e.sha512 }),
        partFile: p.part,
        output: p.image,
        ...(e.compressedSize === undefined ? {} : { expectedBytes: e.compressedSize }),
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
      });
      return await this.cache.record(key, {
        id: e.id,
        arch: e.arch,
        revision: e.revision,
        format: e.format ?? 'raw',
        size: e.size,
        ...(e.sha512 === undefined ? {} : { sha512: e.sha512 }),
        source: e.url,
        repo: e.repo,
        ...(e.name === undefined ? {} : { name: e.name }),
        downloadedAt: new Date().toISOString(),
      });
    } finally {
      await unlock();
    }
  }

  /**
   * Where a build writes, checked before anything is downloaded: a path (absolute; only callers with uid 0
   * over a daemon) or a volume of the root. Both are made under temporary names and renamed at the end.
   */
  private async outputTarget(opts: BuildOptions, format: 'raw' | 'qcow2'): Promise<{
    describe: string;
    make(fill: (tmp: string) => Promise<void>, seed: ((tmp: string) => Promise<void>) | undefined): Promise<{ output: string; seed?: string; volume?: string; seedVolume?: string }>;
  }> {
    const out = opts.output;
    if ('volume' in out) {
      const volumes = this.opts.volumes;
      if (volumes === undefined) throw new VmkitError('InvalidArgument', 'This connection has no volumes directory');
      const seedName = `${out.volume}-cidata`;
      for (const n of [out.volume, ...(hasCustomization(opts.customize) ? [seedName] : [])]) {
        if ((await volumes.locate(n)) !== undefined) throw new VmkitError('AlreadyExists', `Volume '${n}' already exists (vmkit vol delete ${n} first)`, { details: { volume: n } });
      }
      return {
        describe: `volume ${out.volume}`,
        async make(fill, seed) {
          const v = await volumes.make(out.volume, format, fill, undefined);
          if (seed === undefined) return { output: v.path, volume: v.name };
          try {
            const s = await volumes.make(seedName, 'raw', seed, undefined);
            return { output: v.path, volume: v.name, seed: s.path, seedVolume: s.name };
          } catch (e) {
            await volumes.delete(v.name).catch(() => undefined);
            throw e;
          }
        },
      };
    }
    if (opts.caller !== undefined && opts.caller.uid !== 0) {
      const message = `An output given by path would have the daemon write the host file ${JSON.stringify(out.path)}: needs a client with uid 0 (uid ${opts.caller.uid} builds into a volume: output.volume, vmkit image build --volume NAME)`;
      throw new VmkitError('PermissionDenied', `output.path: ${message}`, { details: { uid: opts.caller.uid, path: out.path, problems: [{ path: 'output.path', message }] } });
    }
    if (!isAbsolute(out.path)) throw new VmkitError('InvalidArgument', `The output path must be absolute, got ${JSON.stringify(out.path)}`);
    const path = out.path;
    const signal = opts.signal;
    const seedPath = seedPathFor(path);
    for (const p of [path, ...(hasCustomization(opts.customize) ? [seedPath] : [])]) {
      if ((await stat(p).catch(() => undefined)) !== undefined) throw new VmkitError('AlreadyExists', `${p} already exists: remove it or choose another output`, { details: { path: p } });
    }
    const dir = dirname(path);
    await mkdir(dir, { recursive: true });
    return {
      describe: path,
      async make(fill, seed) {
        const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
        const tmpSeed = `${tmp}.seed`;
        try {
          await fill(tmp);
          if (seed !== undefined) await seed(tmpSeed);
          signal?.throwIfAborted();
          await rename(tmp, path);
          if (seed !== undefined) await rename(tmpSeed, seedPath);
        } catch (e) {
          await Promise.all([rm(tmp, { force: true }), rm(tmpSeed, { force: true })]);
          if (seed !== undefined) await rm(path, { force: true }).catch(() => undefined);
          throw e;
        }
        return { output: path, ...(seed === undefined ? {} : { seed: seedPath }) };
      },
    };
  }
}

/** `--root-password random`: the service picks the password (and the result carries it). */
export const RANDOM_PASSWORD = '\u0000random';

/** The seed written beside an output file: `disk.qcow2` -> `disk-cidata.img`. */
export function seedPathFor(output: string): string {
  const ext = extname(output);
  return join(dirname(output), `${basename(output, ext)}-cidata.img`);
}
