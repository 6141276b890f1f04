/**
 * Disks as `-blockdev` node graphs (a protocol node: `file`, or `host_device` for paths under /dev, then a format node with an explicit `driver=`, so
 * QEMU never probes the format of a guest-writable image) and one `-device` per disk on its bus:
 * - virtio: `virtio-blk-pci` (`virtio-blk-device` on microvm), with `iothread=` when set;
 * - scsi: `virtio-scsi-pci,id=scsi<N>` per SCSI controller (index 0 whenever a disk needs it; in the iothread
 *   its disks name: config allows one per controller), `scsi-hd`/`scsi-cd` at `scsi-id=<n>` (or the disk's
 *   drive address: channel, scsi-id = target, lun = unit);
 * - sata: q35's built-in ICH9 AHCI ports `ide.0`..`ide.5`; on pc an added `ahci,id=ahci0` (`ahci0.0`..`ahci0.5`);
 * - ide: on pc the PIIX buses `ide.0`/`ide.1`, two units each; on q35 there is no IDE controller, so ide
 *   disks take the next free AHCI port like sata disks do.
 * A disk with a drive address takes that place (sata: port = unit; ide: bus and unit); the others take the
 * free places left. virtio disks and the controllers take their PCI address (pci-plan.ts).
 */

import type { DiskCache, DiskSpec, DomainSpec } from '../../model/domain.js';
import { formatOpts, type OptEntry } from '../escape.js';
import type { BootIndexes } from './boot.js';
import { machineFamily, virtioTransport } from './machine-family.js';
import { pciPlacer, type PciPlacer } from './pci-plan.js';
import { unsupported } from './unsupported.js';

export const SCSI_CONTROLLER_ID = 'scsi0';
export const PC_AHCI_ID = 'ahci0';
const AHCI_PORTS = 6;
const PIIX_IDE_UNITS = 4;

export interface DiskNodeNames {
  /** The `file` protocol node (`<id>-file`). */
  readonly file: string;
  /** The format node the device is attached to (`<id>-fmt`); QMP block commands take this node name. */
  readonly format: string;
  /** The guest device's qdev id (the disk id). */
  readonly device: string;
}

export function diskNodeNames(diskId: string): DiskNodeNames {
  return { file: `${diskId}-file`, format: `${diskId}-fmt`, device: diskId };
}

interface CacheFlags {
  readonly direct: boolean;
  readonly noFlush: boolean;
  /** The guest sees a volatile write cache (and must flush). */
  readonly writeCache: boolean;
}

/** The classic `cache=` modes, spelled out as the -blockdev/-device flags they stand for. */
const CACHE: Readonly<Record<DiskCache, CacheFlags>> = {
  none: { direct: true, noFlush: false, writeCache: true },
  writeback: { direct: false, noFlush: false, writeCache: true },
  writethrough: { direct: false, noFlush: false, writeCache: false },
  directsync: { direct: true, noFlush: false, writeCache: false },
  unsafe: { direct: false, noFlush: true, writeCache: true },
};

export function diskArgs(spec: DomainSpec, boot: BootIndexes, pci: PciPlacer = pciPlacer(spec)): string[] {
  const buses = planBuses(spec);
  const args: string[] = [...controllerArgs(spec, buses, pci)];
  spec.disks.forEach((disk, i) => {
    const names = diskNodeNames(disk.id);
    const cache = disk.cache === undefined ? undefined : CACHE[disk.cache];
    const readOnly = disk.readonly || disk.media === 'cdrom';
    const cacheOpts: OptEntry[] = [
      ['cache.direct', cache?.direct === true ? true : undefined],
      ['cache.no-flush', cache?.noFlush === true ? true : undefined],
    ];
    args.push(
      '-blockdev',
      formatOpts(undefined, [
        ['driver', protocolDriver(disk)],
        ['node-name', names.file],
        ['filename', disk.path],
        ...cacheOpts,
        ['aio', disk.aio],
        ['read-only', readOnly ? true : undefined],
      ]),
      '-blockdev',
      formatOpts(undefined, [
        ['driver', disk.format],
        ['node-name', names.format],
        ['file', names.file],
        ...cacheOpts,
        ['read-only', readOnly ? true : undefined],
      ]),
      '-device',
      formatOpts(deviceDriver(spec, disk, i), [
        ...(buses.addresses.get(disk.id) ?? []),
        ['drive', names.format],
        ['id', names.device],
        ['iothread', disk.bus === 'virtio' ? disk.iothread : undefined],
        ['bootindex', boot.disks.get(disk.id)],
        ['serial', disk.serial],
        ['write-cache', cache === undefined || disk.media === 'cdrom' ? undefined : cache.writeCache],
        ...(disk.bus === 'virtio' ? pci.opts(disk.address?.type === 'pci' ? disk.address : undefined, `disks[${i}]`) : []),
      ]),
    );
  });
  return args;
}

/**
 * QEMU's `file` driver refuses block devices, which take `host_device` (`host_cdrom` for a CD-ROM drive).
 * The spec does not say which a path is and argv building cannot look, so a path under /dev (other than the
 * tmpfs and hugetlbfs mounts there) is taken to be a device.
 */
function protocolDriver(disk: DiskSpec): 'file' | 'host_device' | 'host_cdrom' {
  const device = disk.path.startsWith('/dev/') && !/^\/dev\/(shm|hugepages[^/]*|mqueue)\//.test(disk.path);
  if (!device) return 'file';
  return disk.media === 'cdrom' ? 'host_cdrom' : 'host_device';
}

function deviceDriver(spec: DomainSpec, disk: DiskSpec, i: number): string {
  const cd = disk.media === 'cdrom';
  switch (disk.bus) {
    case 'virtio':
      if (cd) unsupported(spec, `disks[${i}].media`, 'A virtio disk cannot be a CD-ROM: use bus scsi or sata', 'cdrom');
      return `virtio-blk-${virtioTransport(spec.machine.type)}`;
    case 'scsi':
      return cd ? 'scsi-cd' : 'scsi-hd';
    case 'sata':
    case 'ide':
      return cd ? 'ide-cd' : 'ide-hd';
  }
}

interface BusPlan {
  /** disk id → its bus address options (`bus=`, `unit=`, `scsi-id=`). */
  readonly addresses: ReadonlyMap<string, readonly OptEntry[]>;
  /** A pc machine needs an added AHCI controller. */
  readonly pcAhci: boolean;
  /** SCSI controller index -> the iothread of its first disk that has one (every index a disk uses is a key). */
  readonly scsi: ReadonlyMap<number, string | undefined>;
}

/** Gives each disk its place on a bus, checking the machine has that bus and a free slot on it. */
function planBuses(spec: DomainSpec): BusPlan {
  const family = machineFamily(spec.machine.type);
  const out = new Map<string, OptEntry[]>();
  const scsi = new Map<number, string | undefined>();
  // Places that disks with a drive address hold: the others skip them.
  const takenScsi = new Set<string>();
  const takenAhci = new Set<number>();
  const takenPiix = new Set<number>();
  for (const d of spec.disks) {
    const a = d.address;
    if (a?.type !== 'drive') continue;
    if (d.bus === 'scsi') takenScsi.add(`${a.controller}:${a.target}`);
    else if (d.bus === 'sata') takenAhci.add(a.unit);
    else if (d.bus === 'ide' && family === 'pc') takenPiix.add(a.bus * 2 + a.unit);
  }
  let scsiId = 0;
  let ahciPort = 0;
  let piixUnit = 0;
  const useScsi = (index: number, iothread: string | undefined): void => {
    if (!scsi.has(index) || (scsi.get(index) === undefined && iothread !== undefined)) scsi.set(index, scsi.get(index) ?? iothread);
  };
  let ahciUsed = false;
  spec.disks.forEach((disk, i) => {
    const a = disk.address?.type === 'drive' ? disk.address : undefined;
    const path = `disks[${i}].bus`;
    if (disk.format === 'luks') {
      unsupported(spec, `disks[${i}].format`, 'LUKS images need a key secret, which vmkit cannot pass yet: use a decrypted image or qcow2', 'luks');
    }
    if (disk.aio === 'native' && disk.cache !== 'none' && disk.cache !== 'directsync') {
      unsupported(spec, `disks[${i}].aio`, 'aio native needs O_DIRECT: set cache to none or directsync, or use aio io_uring or threads', `cache ${disk.cache ?? 'unset'}`);
    }
    switch (disk.bus) {
      case 'virtio':
        return;
      case 'scsi': {
        if (a !== undefined) {
          useScsi(a.controller, disk.iothread);
          out.set(disk.id, [
            ['bus', `scsi${a.controller}.0`],
            ['channel', a.bus],
            ['scsi-id', a.target],
            ['lun', a.unit],
          ]);
          return;
        }
        while (takenScsi.has(`0:${scsiId}`)) scsiId++;
        useScsi(0, disk.iothread);
        out.set(disk.id, [
          ['bus', `${SCSI_CONTROLLER_ID}.0`],
          ['channel', 0],
          ['scsi-id', scsiId++],
          ['lun', 0],
        ]);
        return;
      }
      case 'sata':
      case 'ide': {
        if (family === 'pc' && disk.bus === 'ide' && a !== undefined) {
          out.set(disk.id, [
            ['bus', `ide.${a.bus}`],
            ['unit', a.unit],
          ]);
          return;
        }
        if (family === 'pc' && disk.bus === 'ide') {
          while (takenPiix.has(piixUnit)) piixUnit++;
          if (piixUnit >= PIIX_IDE_UNITS) {
            unsupported(spec, path, `Machine ${spec.machine.type} has ${PIIX_IDE_UNITS} IDE slots (2 buses x 2 units): move this disk to bus sata, scsi or virtio`, 'ide');
          }
          out.set(disk.id, [
            ['bus', `ide.${piixUnit >> 1}`],
            ['unit', piixUnit & 1],
          ]);
          piixUnit++;
          return;
        }
        if (family !== 'pc' && family !== 'q35') {
          unsupported(spec, path, `Machine ${spec.machine.type} has no ${disk.bus.toUpperCase()} controller: use bus virtio or scsi, or machine q35/pc`, disk.bus);
        }
        ahciUsed = true;
        if (a !== undefined) {
          out.set(disk.id, [['bus', family === 'q35' ? `ide.${a.unit}` : `${PC_AHCI_ID}.${a.unit}`]]);
          return;
        }
        while (takenAhci.has(ahciPort)) ahciPort++;
        if (ahciPort >= AHCI_PORTS) {
          unsupported(spec, path, `Machine ${spec.machine.type} has ${AHCI_PORTS} SATA ports${family === 'q35' ? ' (shared by sata and ide disks)' : ''}: move this disk to bus scsi or virtio`, disk.bus);
        }
        out.set(disk.id, [['bus', family === 'q35' ? `ide.${ahciPort}` : `${PC_AHCI_ID}.${ahciPort}`]]);
        ahciPort++;
        return;
      }
    }
  });
  const listedSata = (spec.controllers ?? []).some((c) => c.type === 'sata');
  for (const c of spec.controllers ?? []) if (c.type === 'scsi' && !scsi.has(c.index)) scsi.set(c.index, undefined);
  return { addresses: out, pcAhci: family === 'pc' && (ahciUsed || listedSata), scsi };
}

function controllerArgs(spec: DomainSpec, buses: BusPlan, pci: PciPlacer): string[] {
  const args: string[] = [];
  const controllers = spec.controllers ?? [];
  for (const index of [...buses.scsi.keys()].sort((x, y) => x - y)) {
    // config/native/resolve-storage.ts makes sure the disks of one controller that name an iothread name the same one.
    const iothread = buses.scsi.get(index);
    const listed = controllers.find((c) => c.type === 'scsi' && c.index === index);
    args.push(
      '-device',
      formatOpts(`virtio-scsi-${virtioTransport(spec.machine.type)}`, [
        ['id', index === 0 ? SCSI_CONTROLLER_ID : `scsi${index}`],
        ['iothread', iothread],
        ...pci.opts(listed?.address, `controllers.scsi[${index}]`),
      ]),
    );
  }
  if (buses.pcAhci) {
    const listed = controllers.find((c) => c.type === 'sata');
    args.push('-device', formatOpts('ahci', [['id', PC_AHCI_ID], ...pci.opts(listed?.address, 'controllers.sata[0]')]));
  }
  return args;
}
