/**
 * `<disk type='file'|'block' device='disk'|'cdrom'>` with `<driver type cache io iothread>`, `<source>`,
 * `<target dev bus>`, `<readonly/>`, `<serial>` and `<boot order>`. The image format is required: libvirt
 * would probe a missing one, vmkit never does. `cache='none' io='native'` keep their meaning
 * (cache.direct=on, aio=native); `iothread='N'` runs the virtio-blk disk in libvirt's `iothread<N>`. Pure.
 */
import { DISK_FORMATS } from '../native/vocabulary.js';
import { child } from '../pointer.js';
import { put, type DraftDisk, type ReadState } from './draft.js';
import { enumAttr, intAttr } from './read-values.js';
import { readGuestAddress } from './read-address.js';
import { iothreadName } from './read-tuning.js';
import type { XmlElement } from './xml-tree.js';

const TARGET_DEV = /^(hd|sd|vd|xvd|ubd)([a-z]+)$/;
const BUS_OF_PREFIX: Readonly<Record<string, string>> = { hd: 'ide', sd: 'scsi', vd: 'virtio', xvd: 'xen', ubd: 'uml' };
const CACHES = ['default', 'none', 'writethrough', 'writeback', 'directsync', 'unsafe'] as const;
const IOS = ['default', 'threads', 'native', 'io_uring'] as const;
/** libvirt's `iso` format is raw to QEMU. */
const FORMAT_ALIASES: Readonly<Record<string, string>> = { iso: 'raw' };

/** `vda` -> 0, `vdz` -> 25, `vdaa` -> 26 (libvirt's virDiskNameToIndex). */
export function diskNameIndex(dev: string): number | undefined {
  const m = TARGET_DEV.exec(dev);
  if (m === null) return undefined;
  let idx = 0;
  for (const ch of m[2] as string) idx = idx * 26 + (ch.charCodeAt(0) - 96);
  return idx - 1;
}

/** `(vd, 0)` -> `vda`, `(sd, 26)` -> `sdaa`. */
export function diskName(prefix: string, index: number): string {
  let s = '';
  let i = index + 1;
  while (i > 0) {
    const r = (i - 1) % 26;
    s = String.fromCharCode(97 + r) + s;
    i = Math.floor((i - 1) / 26);
  }
  return prefix + s;
}

export interface DiskFacts {
  /** libvirt device aliases (`virtio-disk0`) -> vmkit disk ids (`disk0`), for messages about `-set`. */
  readonly aliases: Map<string, string>;
}

export function readDisks(state: ReadState, devices: XmlElement, scsiController: boolean): DiskFacts {
  const { ctx } = state;
  const disks: DraftDisk[] = [];
  const targets = new Map<string, XmlElement>();
  const aliases = new Map<string, string>();
  for (const disk of ctx.children(devices, 'disk')) {
    const d = readDisk(state, disk, disks.length, { scsiController, targets });
    if (d === undefined) continue;
    if (d.alias !== undefined) aliases.set(d.alias, `disk${disks.length}`);
    disks.push(d.disk);
  }
  if (disks.length > 0) state.draft.disks = disks;
  return { aliases };
}

function readDisk(
  state: ReadState,
  disk: XmlElement,
  i: number,
  env: { scsiController: boolean; targets: Map<string, XmlElement> },
): { disk: DraftDisk; alias?: string } | undefined {
  const { ctx } = state;
  const at = child('/disks', i);
  ctx.map(at, disk);
  const type = enumAttr(ctx, disk, 'type', ['file', 'block', 'network', 'volume', 'dir', 'nvme', 'vhostuser']) ?? 'file';
  if (type !== 'file' && type !== 'block') {
    ctx.drop({ el: disk, attr: 'type' }, `Disks of type '${type}' are not supported yet; vmkit opens image files (type='file') and block devices (type='block')`);
    return undefined;
  }
  const device = enumAttr(ctx, disk, 'device', ['disk', 'cdrom', 'floppy', 'lun']) ?? 'disk';
  if (device === 'floppy' || device === 'lun') {
    ctx.drop({ el: disk, attr: 'device' }, `device='${device}' is not supported yet; use device='disk' or 'cdrom'`);
    return undefined;
  }
  const out: DraftDisk = { media: put(state, child(at, 'media'), { el: disk, attr: 'device' }, device) };

  const source = ctx.child(disk, 'source');
  const srcAttr = type === 'file' ? 'file' : 'dev';
  const path = source === undefined ? undefined : ctx.attr(source, srcAttr);
  if (source === undefined || path === undefined || path === '') {
    if (device === 'cdrom') {
      ctx.unsupported(disk, 'An empty CD-ROM drive (no <source>) is not supported yet; give the image in <source file=...>');
      return undefined;
    }
    ctx.error(source === undefined ? disk : { el: source, attr: srcAttr }, `The disk needs <source ${srcAttr}='...'>, the ${type === 'file' ? 'image file' : 'block device'}`);
    ctx.claim(child(at, 'path'));
  } else {
    out.path = put(state, child(at, 'path'), { el: source, attr: srcAttr }, path);
    const underDev = path.startsWith('/dev/') && !/^\/dev\/(shm|hugepages[^/]*|mqueue)\//.test(path);
    if (type === 'block' && !underDev) {
      ctx.error({ el: source, attr: 'dev' }, 'vmkit opens only paths under /dev as block devices; give the device node (e.g. /dev/vg0/root), not a link elsewhere', { found: JSON.stringify(path) });
    } else if (type === 'file' && underDev) {
      ctx.error({ el: disk, attr: 'type' }, `${path} is under /dev, which vmkit opens as a block device: use type='block' with <source dev='${path}'>`);
    }
  }

  const driver = ctx.child(disk, 'driver');
  let format: string | undefined;
  if (driver !== undefined) {
    const name = ctx.attr(driver, 'name');
    if (name !== undefined && name !== 'qemu') ctx.error({ el: driver, attr: 'name' }, 'vmkit runs QEMU: the driver name is qemu', { expected: 'qemu', found: JSON.stringify(name) });
    const t = ctx.attr(driver, 'type');
    if (t !== undefined) {
      format = FORMAT_ALIASES[t] ?? t;
      out.format = put(state, child(at, 'format'), { el: driver, attr: 'type' }, format);
    }
    const cache = enumAttr(ctx, driver, 'cache', CACHES);
    if (cache !== undefined && cache !== 'default') out.cache = put(state, child(at, 'cache'), { el: driver, attr: 'cache' }, cache);
    const io = enumAttr(ctx, driver, 'io', IOS);
    if (io !== undefined && io !== 'default') out.aio = put(state, child(at, 'aio'), { el: driver, attr: 'io' }, io);
    const iothread = intAttr(ctx, driver, 'iothread', { min: 1 });
    if (iothread !== undefined) {
      const n = iothreadName(state, driver, iothread);
      if (n !== undefined) out.iothread = put(state, child(at, 'iothread'), { el: driver, attr: 'iothread' }, n);
      else ctx.claim(child(at, 'iothread'));
    }
  }
  if (format === undefined) {
    ctx.error(driver === undefined ? disk : { el: driver, attr: 'type' }, "The image format is missing: add <driver name='qemu' type='raw'/> (or qcow2, ...). libvirt would probe it; vmkit never guesses a format, since probing lets a guest turn a raw image into a qcow2 that points at host files", {
      expected: DISK_FORMATS.join(', '),
    });
    ctx.claim(child(at, 'format'));
  }

  const target = ctx.child(disk, 'target');
  let alias: string | undefined;
  if (target === undefined) {
    ctx.error(disk, "The disk needs <target dev='vda' bus='virtio'/> (the guest device name and bus)");
  } else {
    const dev = ctx.attr(target, 'dev');
    const busAttr = ctx.attr(target, 'bus');
    const m = dev === undefined ? null : TARGET_DEV.exec(dev);
    if (dev === undefined) {
      ctx.error({ el: target, attr: 'dev' }, '<target> needs dev, the guest device name like vda or sda');
    } else if (m === null) {
      ctx.error({ el: target, attr: 'dev' }, 'Not a disk device name', { expected: 'hd, sd or vd followed by letters, like vda or sdb', found: JSON.stringify(dev) });
    } else {
      const prev = env.targets.get(dev);
      if (prev !== undefined) ctx.error({ el: target, attr: 'dev' }, `Target ${dev} is already used by the disk at ${prev.path}`);
      else env.targets.set(dev, disk);
    }
    const bus = busAttr ?? (m === null ? undefined : BUS_OF_PREFIX[m[1] as string]);
    const busAt = busAttr === undefined ? { el: target, attr: 'dev' } : { el: target, attr: 'bus' };
    if (bus === undefined) {
      if (dev !== undefined && m !== null) ctx.error({ el: target, attr: 'bus' }, 'Give the bus', { expected: 'virtio, scsi, sata or ide' });
    } else if (!['virtio', 'scsi', 'sata', 'ide'].includes(bus)) {
      ctx.drop(busAt, `Disk bus ${bus} is not supported yet; use virtio, scsi, sata or ide`, { found: bus }, disk);
      return undefined;
    } else {
      out.bus = put(state, child(at, 'bus'), busAt, bus);
      if (bus === 'scsi' && !env.scsiController) {
        ctx.error(busAt, "libvirt puts SCSI disks on its default SCSI controller (lsilogic), which vmkit does not have; vmkit's SCSI disks sit on virtio-scsi: add <controller type='scsi' index='0' model='virtio-scsi'/>");
      }
      if (out.iothread !== undefined && bus !== 'virtio') {
        ctx.error({ el: driver ?? disk, attr: 'iothread' }, `A disk iothread only applies to virtio disks (virtio-blk dataplane), but this disk is on bus ${bus}`, { found: `bus ${bus}` });
        ctx.claim(child(at, 'iothread'));
        delete out.iothread;
      }
      if (bus === 'virtio' && dev !== undefined && m !== null) alias = `virtio-disk${diskNameIndex(dev) ?? 0}`;
    }
  }

  if (ctx.child(disk, 'readonly') !== undefined) out.readonly = put(state, child(at, 'readonly'), disk, true);
  const shareable = ctx.child(disk, 'shareable');
  if (shareable !== undefined) ctx.unsupported(shareable, 'Shared writable disks (<shareable/>) are not supported yet');
  const serial = ctx.child(disk, 'serial');
  if (serial !== undefined) out.serial = put(state, child(at, 'serial'), { el: serial, text: true }, ctx.text(serial));
  const boot = ctx.child(disk, 'boot');
  if (boot !== undefined) {
    const order = intAttr(ctx, boot, 'order', { min: 1, max: 1000 });
    if (state.kernelBoot) {
      ctx.error(boot, '<boot order> only applies to firmware boot, but this domain boots a kernel directly (<kernel>); remove it');
    } else if (state.osBootAt !== undefined) {
      ctx.error(boot, `Per-device <boot order> cannot be combined with <os><boot dev> (${state.osBootAt.path}); use one or the other`);
    } else if (order !== undefined) {
      out.boot_index = put(state, child(at, 'boot_index'), { el: boot, attr: 'order' }, order);
    } else if (ctx.attr(boot, 'order') === undefined) {
      ctx.error({ el: boot, attr: 'order' }, '<boot> needs order, a number from 1');
    }
  }
  // virtio disks are PCI devices; the others sit on their controller (type='drive'). The resolvers check which fits the bus.
  const address = readGuestAddress(state, disk, at, ['pci', 'drive']);
  if (address !== undefined) out.address = address;
  return alias === undefined ? { disk: out } : { disk: out, alias };
}
