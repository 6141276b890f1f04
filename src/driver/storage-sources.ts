/**
 * At start, the disks a definition names by volume or by template become files QEMU opens (the pure config
 * layer only records the names):
 *  - `volume: NAME` -> `<root>/volumes/NAME.raw|qcow2`, its format from vmkit's own file name (a format the
 *    definition gave must be the same);
 *  - `image: TEMPLATE` -> `<root>/vm/<domain>/<disk id>.qcow2`, a qcow2 overlay on the newest cached revision
 *    of the template (backing format stated), made at the first start (as QEMU's account) and kept after.
 * The template must be in the cache (`vmkit image get`): a start never downloads. A problem is reported at
 * the disk's field of the definition.
 */
import { constants } from 'node:fs';
import { accessSync } from 'node:fs';
import { chown, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { VmkitError } from '../errors.js';
import { readIdentity, type Identity } from '../host/accounts.js';
import { ImageCache, imageCacheDir } from '../images/cache.js';
import { hostArch } from '../images/index-file.js';
import type { DiskSpec, DomainSpec } from '../model/domain.js';
import { virtualSize } from '../storage/virtual-size.js';
import { VolumeService, writeOverlay } from '../storage/volumes.js';
import { withFsIdentity } from '../sys/fs-identity.js';
import { domainDir } from './privileged-options.js';

export interface StorageHost {
  readonly root: string;
  /** The template cache (default: images/cache.ts imageCacheDir()). */
  readonly imageCacheDir?: string;
  /** The account QEMU runs as when the definition names none. */
  readonly qemuUser?: string | number;
}

/** True when some disk of `spec` is named by volume or template (cheap: the call site checks before loading this). */
export function hasStorageSources(spec: DomainSpec): boolean {
  return spec.disks.some((d) => d.volume !== undefined || d.image !== undefined);
}

/** `spec` with every volume and image disk given its path and format (see the module comment). */
export async function resolveStorageSources(spec: DomainSpec, host: StorageHost): Promise<DomainSpec> {
  if (!hasStorageSources(spec)) return spec;
  const { user, group } = spec.process;
  const identity = user !== undefined || group !== undefined ? await readIdentity(user, group) : host.qemuUser === undefined ? undefined : await readIdentity(host.qemuUser, undefined);
  const volumes = new VolumeService({ dir: join(host.root, 'volumes') });
  const cache = new ImageCache(host.imageCacheDir ?? imageCacheDir());
  const disks: DiskSpec[] = [];
  for (const [i, d] of spec.disks.entries()) {
    if (d.volume !== undefined) disks.push(await volumeDisk(d, i, volumes));
    else if (d.image !== undefined) disks.push(await imageDisk(d, i, spec.name, host.root, cache, identity));
    else disks.push(d);
  }
  return { ...spec, disks };
}

function problem(i: number, field: string, code: 'NotFound' | 'InvalidConfig' | 'HostError', message: string): VmkitError {
  return new VmkitError(code, message, { details: { problems: [{ path: `disks[${i}].${field}`, message }] } });
}

async function volumeDisk(d: DiskSpec, i: number, volumes: VolumeService): Promise<DiskSpec> {
  const v = d.volume as NonNullable<DiskSpec['volume']>;
  const found = await volumes.locate(v.name);
  if (found === undefined) throw problem(i, 'volume', 'NotFound', `Volume '${v.name}' does not exist in ${volumes.opts.dir}: create it (vmkit vol create ${v.name} --size 10G) or build it (vmkit image build TEMPLATE --volume ${v.name})`);
  if (v.format !== undefined && v.format !== found.format) throw problem(i, 'format', 'InvalidConfig', `Volume '${v.name}' is ${found.format}, but the definition says format ${v.format}: write format: ${found.format}, or leave format out`);
  return { ...d, path: found.path, format: found.format };
}

async function imageDisk(d: DiskSpec, i: number, domain: string, root: string, cache: ImageCache, identity: Identity | undefined): Promise<DiskSpec> {
  const img = d.image as NonNullable<DiskSpec['image']>;
  const arch = img.arch ?? hostArch();
  const path = join(domainDir(root, domain), `${d.id}.qcow2`);
  const existing = await stat(path).catch(() => undefined);
  if (existing !== undefined) {
    if (!existing.isFile()) throw problem(i, 'image', 'HostError', `${path} (the overlay of disks[${i}]) is not a regular file`);
    return { ...d, path, format: 'qcow2' };
  }
  const base = (await cache.list()).filter((c) => c.id === img.name && c.arch === arch).sort((a, b) => b.revision - a.revision)[0];
  if (base === undefined) throw problem(i, 'image', 'NotFound', `Template '${img.name}' (${arch}) is not in the image cache ${cache.dir}: download it first (vmkit image get ${img.name}${img.arch === undefined ? '' : ` --arch ${img.arch}`})`);
  if (identity !== undefined) {
    try {
      withFsIdentity(identity, () => accessSync(base.path, constants.R_OK));
    } catch {
      throw problem(i, 'image', 'HostError', `QEMU runs as uid ${identity.uid}, which cannot read the template ${base.path}: make the cache directory ${cache.dir} and its parents reachable (mode 0755), or set VMKIT_IMAGE_CACHE to such a directory`);
    }
  }
  const baseSize = await virtualSize(base.path, base.format);
  if (img.sizeBytes !== undefined && img.sizeBytes < baseSize) throw problem(i, 'size', 'InvalidConfig', `Template '${img.name}' is ${baseSize} bytes; an image disk cannot be smaller (size ${img.sizeBytes})`);
  const size = img.sizeBytes ?? baseSize;
  await mkdir(dirname(path), { recursive: true, mode: 0o711 });
  await writeOverlay(path, size, base.path, base.format);
  if (identity !== undefined && identity.uid !== process.geteuid?.()) await chown(path, identity.uid, identity.gid);
  return { ...d, path, format: 'qcow2' };
}
