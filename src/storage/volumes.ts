/**
 * Volumes: disk images kept in a root's `volumes/` directory as `NAME.raw` or `NAME.qcow2` (the format is
 * part of the name vmkit gave the file: it is known, never probed). Created by qemu-img (fixed argv), or for
 * overlays by writing the qcow2 metadata directly (qcow2-overlay.ts). New files appear under their name only
 * when complete (written under a temporary name, then renamed) and belong to the account QEMU runs as.
 */
import { chown, constants, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { VmkitError } from '../errors.js';
import type { BackingRef, VolumeFormat, VolumeInfo, VolumesApi } from '../images/types.js';
import { qcow2Overlay } from './qcow2-overlay.js';
import { createImage, imageInfo, resizeImage } from './qemu-img.js';
import { virtualSize } from './virtual-size.js';

const NAME = /^[A-Za-z0-9_+-][A-Za-z0-9_.+-]{0,63}$/;
const FORMATS: readonly VolumeFormat[] = ['qcow2', 'raw'];

/** Refuses a volume name that is not a plain file name of ours. */
export function checkVolumeName(name: string): void {
  if (typeof name !== 'string' || !NAME.test(name) || name.endsWith('.raw') || name.endsWith('.qcow2')) {
    throw new VmkitError('InvalidArgument', `Invalid volume name ${JSON.stringify(name)}: 1 to 64 characters of [A-Za-z0-9_.+-], not starting with '.', not ending in .raw or .qcow2`, { details: { name } });
  }
}

export interface VolumeServiceOptions {
  /** The volumes directory (`<root>/volumes`). */
  readonly dir: string;
  /** Account the files are given to (QEMU's), when it is not this process's. */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** Finds a cached template's file for an overlay on `{ image }`. */
  readonly findImage?: (id: string, arch: string | undefined) => Promise<{ path: string; format: string } | undefined>;
  /** Domains that use the volume, and whether they run. */
  readonly usedBy?: (name: string) => { domain: string; running: boolean }[];
}

export class VolumeService implements VolumesApi {
  constructor(readonly opts: VolumeServiceOptions) {}

  /** The file of volume `name`, with its format; undefined when there is none. */
  async locate(name: string): Promise<{ path: string; format: VolumeFormat } | undefined> {
    checkVolumeName(name);
    for (const format of FORMATS) {
      const path = join(this.opts.dir, `${name}.${format}`);
      const st = await stat(path).catch(() => undefined);
      if (st?.isFile() === true) return { path, format };
    }
    return undefined;
  }

  async require(name: string): Promise<{ path: string; format: VolumeFormat }> {
    const found = await this.locate(name);
    if (found === undefined) throw new VmkitError('NotFound', `No volume named '${name}' in ${this.opts.dir} (vmkit vol list shows them)`, { details: { volume: name } });
    return found;
  }

  async list(): Promise<VolumeInfo[]> {
    const names = (await readdir(this.opts.dir).catch(() => [] as string[])).sort();
    const out: VolumeInfo[] = [];
    for (const n of names) {
      const m = /^(.+)\.(raw|qcow2)$/.exec(n);
      if (m === null || !NAME.test(m[1] as string)) continue;
      out.push(await this.describe(m[1] as string, join(this.opts.dir, n), m[2] as VolumeFormat).catch((e: unknown) => ({ name: m[1] as string, format: m[2] as VolumeFormat, path: join(this.opts.dir, n), virtualSize: 0, error: (e as Error).message })));
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async info(name: string): Promise<VolumeInfo> {
    const v = await this.require(name);
    return this.describe(name, v.path, v.format);
  }

  async create(name: string, opts: { size: number; format?: VolumeFormat }): Promise<VolumeInfo> {
    const format = opts.format ?? 'qcow2';
    if (!FORMATS.includes(format)) throw new VmkitError('InvalidArgument', `Volume format must be raw or qcow2, got ${JSON.stringify(format)}`);
    checkSize(opts.size);
    return this.make(name, format, async (tmp) => createImage(tmp, format, opts.size));
  }

  async overlay(name: string, opts: { backing: BackingRef; size?: number; caller?: { uid: number } }): Promise<VolumeInfo> {
    const base = await this.resolveBacking(opts.backing, opts.caller);
    const baseSize = await virtualSize(base.path, base.format);
    const size = opts.size ?? baseSize;
    checkSize(size);
    if (size < baseSize) throw new VmkitError('InvalidArgument', `An overlay cannot be smaller than its backing image (${size} < ${baseSize} bytes)`, { details: { size, backingSize: baseSize } });
    // Described from what was written: no qemu-img run, so an overlay takes a few small writes.
    return this.make(name, 'qcow2', (tmp) => writeOverlay(tmp, size, base.path, base.format), { virtualSize: size, backingFile: base.path, backingFormat: base.format });
  }

  async resize(name: string, opts: { size: number; shrink?: boolean }): Promise<VolumeInfo> {
    checkSize(opts.size);
    const v = await this.require(name);
    const running = (this.opts.usedBy?.(name) ?? []).filter((u) => u.running);
    if (running.length > 0) throw new VmkitError('InvalidState', `Cannot resize volume '${name}': domain ${running.map((u) => `'${u.domain}'`).join(', ')} runs with it`, { details: { volume: name } });
    const now = await imageInfo(v.path, v.format);
    if (opts.size < now.virtualSize && opts.shrink !== true) throw new VmkitError('InvalidArgument', `Volume '${name}' is ${now.virtualSize} bytes; shrinking it to ${opts.size} loses data: pass shrink (--shrink) if that is meant`, { details: { volume: name } });
    await resizeImage(v.path, v.format, opts.size, { ...(opts.shrink === true ? { shrink: true } : {}) });
    return this.describe(name, v.path, v.format);
  }

  async delete(name: string): Promise<void> {
    const v = await this.require(name);
    const users = this.opts.usedBy?.(name) ?? [];
    if (users.length > 0) throw new VmkitError('InvalidState', `Cannot delete volume '${name}': domain ${users.map((u) => `'${u.domain}'`).join(', ')} uses it (undefine it or change its disks first)`, { details: { volume: name, domains: users.map((u) => u.domain) } });
    await rm(v.path, { force: true });
  }

  /** Makes volume `name` through `fill(tmpPath)`: refused when the name is taken, never left half-made. */
  async make(name: string, format: VolumeFormat, fill: (tmp: string) => Promise<void>, known?: Omit<VolumeInfo, 'name' | 'format' | 'path'>): Promise<VolumeInfo> {
    checkVolumeName(name);
    await mkdir(this.opts.dir, { recursive: true, mode: 0o711 });
    if ((await this.locate(name)) !== undefined) throw new VmkitError('AlreadyExists', `Volume '${name}' already exists (vmkit vol delete ${name} first)`, { details: { volume: name } });
    const path = join(this.opts.dir, `${name}.${format}`);
    const tmp = join(this.opts.dir, `.${name}.${format}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    try {
      await fill(tmp);
      await this.own(tmp);
      if ((await this.locate(name)) !== undefined) throw new VmkitError('AlreadyExists', `Volume '${name}' was created meanwhile`, { details: { volume: name } });
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    return known === undefined ? this.describe(name, path, format) : { name, format, path, ...known };
  }

  /** Gives a new file to QEMU's account, private to it. */
  async own(path: string): Promise<void> {
    if (this.opts.owner !== undefined && this.opts.owner.uid !== process.geteuid?.()) await chown(path, this.opts.owner.uid, this.opts.owner.gid);
  }

  private async resolveBacking(b: BackingRef, caller: { uid: number } | undefined): Promise<{ path: string; format: string }> {
    if ('volume' in b) return this.require(b.volume);
    if ('image' in b) {
      const found = await this.opts.findImage?.(b.image, b.arch);
      if (found === undefined) throw new VmkitError('NotFound', `Template '${b.image}'${b.arch === undefined ? '' : ` (${b.arch})`} is not in the image cache: download it first (vmkit image get ${b.image})`, { details: { image: b.image } });
      return found;
    }
    if (caller !== undefined && caller.uid !== 0) {
      const message = `A backing file given by path would have the daemon read the host file ${JSON.stringify(b.path)}: needs a client with uid 0 (uid ${caller.uid} bases an overlay on a template or a volume: backing.image, backing.volume, --backing NAME or volume:NAME)`;
      throw new VmkitError('PermissionDenied', `backing.path: ${message}`, { details: { uid: caller.uid, path: b.path, problems: [{ path: 'backing.path', message }] } });
    }
    if (!isAbsolute(b.path)) throw new VmkitError('InvalidArgument', `The backing file must be an absolute path, got ${JSON.stringify(b.path)}`);
    if (!/^[a-z0-9]+$/.test(b.format)) throw new VmkitError('InvalidArgument', `Invalid backing format ${JSON.stringify(b.format)}`);
    const st = await stat(b.path).catch(() => undefined);
    if (st === undefined) throw new VmkitError('NotFound', `Backing file ${b.path} does not exist`, { details: { path: b.path } });
    return { path: b.path, format: b.format };
  }

  private async describe(name: string, path: string, format: VolumeFormat): Promise<VolumeInfo> {
    const i = await imageInfo(path, format);
    return {
      name,
      format,
      path,
      virtualSize: i.virtualSize,
      ...(i.actualSize === undefined ? {} : { actualSize: i.actualSize }),
      ...(i.backingFile === undefined ? {} : { backingFile: i.backingFile }),
      ...(i.backingFormat === undefined ? {} : { backingFormat: i.backingFormat }),
    };
  }
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size <= 0) throw new VmkitError('InvalidArgument', `A volume size must be a whole number of bytes above 0, got ${String(size)}`, { details: { size } });
}

/** Writes an empty qcow2 overlay of `size` on `backing` (in `format`) into the new file `path` (0600). */
export async function writeOverlay(path: string, size: number, backing: string, format: string): Promise<void> {
  const layout = qcow2Overlay(size, backing, format);
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    for (const w of layout.writes) await fh.write(w.bytes, 0, w.bytes.length, w.offset);
    await fh.truncate(layout.fileSize);
  } finally {
    await fh.close();
  }
}
