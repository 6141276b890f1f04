/**
 * QMP arguments for hot-plugging (pure): the same node names, ids and options as the command line of a
 * cold-plugged device (qemu/argv/disks.ts, nics.ts), and the checks on a request, with the field named.
 */
import { VmkitError } from '../errors.js';
import type { DiskFormat, DiskSpec, DomainSpec, NicSpec, PciAddressSpec } from '../model/domain.js';
import { pciBusId, pciRoot } from '../model/pci.js';
import { diskNodeNames } from '../qemu/argv/disks.js';
import { hostfwd } from '../qemu/argv/nics.js';
import { reservePorts } from './live.js';
import type { HotState } from './types.js';

const DISK_FORMATS: readonly DiskFormat[] = ['raw', 'qcow2', 'qcow', 'vmdk', 'vdi', 'vhdx', 'vpc', 'qed', 'luks'];
/** Device ids: safe as QEMU ids and node names. */
const DEVICE_ID = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** A disk to hot-plug: always a virtio disk on a reserved root port. */
export interface AttachDiskRequest {
  readonly id: string;
  /** Absolute path of the image. */
  readonly path: string;
  /** The image format, always explicit (QEMU never probes a guest-writable image). */
  readonly format: DiskFormat;
  readonly readonly?: boolean;
  readonly serial?: string;
  readonly cache?: DiskSpec['cache'];
}

/** A NIC to hot-plug: a virtio NIC on a reserved root port, with a user (slirp) or tap backend. */
export interface AttachNicRequest {
  readonly id: string;
  readonly kind: 'user' | 'tap';
  readonly mac?: string;
  /** tap: the existing host tap device. */
  readonly ifname?: string;
}

function bad(field: string, message: string, value: unknown): never {
  throw new VmkitError('InvalidArgument', `${field}: ${message} (got ${JSON.stringify(value)})`, { details: { field, value } });
}

function checkId(spec: DomainSpec, id: unknown, field: string): string {
  if (typeof id !== 'string' || !DEVICE_ID.test(id)) bad(field, 'a device id is a letter then up to 31 letters, digits, `_` or `-`', id);
  if (/^vcpu[0-9]+$/.test(id)) bad(field, '`vcpuN` ids are vmkit\'s own (hot-plugged vCPUs)', id);
  const taken = [...spec.disks.map((d) => d.id), ...spec.nics.map((n) => n.id), ...spec.iothreads, ...(spec.controllers ?? []).map((c) => `${c.type}${c.index}`)];
  if (taken.includes(id)) bad(field, `domain '${spec.name}' already has a device with this id: choose another`, id);
  return id;
}

/** Hot-plugging PCI devices needs the reserved ports of a q35 machine. */
export function requireHotplugBus(spec: DomainSpec, what: string): void {
  if (spec.rawOptions !== undefined) {
    throw new VmkitError('InvalidArgument', `Cannot hot-plug ${what} into domain '${spec.name}': its qemu-launcher definition writes the QEMU options itself, so vmkit reserved no hotplug slots`, { details: { domain: spec.name } });
  }
  if (pciRoot(spec.machine.type) !== 'q35') {
    throw new VmkitError('InvalidArgument', `Cannot hot-plug ${what} into domain '${spec.name}': vmkit hot-plugs PCI devices into PCIe root ports it reserves on q35 machines, and this one is ${spec.machine.type}`, {
      details: { domain: spec.name, machine: spec.machine.type },
    });
  }
}

/** The disk spec a request becomes, at `address`. Throws InvalidArgument naming the field. */
export function hotDisk(spec: DomainSpec, req: AttachDiskRequest, address: PciAddressSpec): DiskSpec {
  const id = checkId(spec, req.id, 'disk.id');
  if (typeof req.path !== 'string' || !req.path.startsWith('/') || req.path.includes('\0')) bad('disk.path', 'give the image as an absolute path', req.path);
  if (!DISK_FORMATS.includes(req.format)) bad('disk.format', `give the image format explicitly: one of ${DISK_FORMATS.join(', ')}`, req.format);
  if (req.serial !== undefined && (typeof req.serial !== 'string' || !/^[\x20-\x7e]{1,20}$/.test(req.serial))) bad('disk.serial', 'at most 20 printable ASCII characters', req.serial);
  const caches = ['none', 'writeback', 'writethrough', 'directsync', 'unsafe'];
  if (req.cache !== undefined && !caches.includes(req.cache)) bad('disk.cache', `one of ${caches.join(', ')}`, req.cache);
  return {
    id,
    path: req.path,
    format: req.format,
    bus: 'virtio',
    media: 'disk',
    readonly: req.readonly === true,
    ...(req.serial === undefined ? {} : { serial: req.serial }),
    ...(req.cache === undefined ? {} : { cache: req.cache }),
    address,
  };
}

export function hotNic(spec: DomainSpec, req: AttachNicRequest, address: PciAddressSpec): NicSpec {
  const id = checkId(spec, req.id, 'nic.id');
  if (req.mac !== undefined && (typeof req.mac !== 'string' || !MAC.test(req.mac))) bad('nic.mac', 'a MAC address like 52:54:00:12:34:56', req.mac);
  const common = { id, model: 'virtio' as const, ...(req.mac === undefined ? {} : { mac: req.mac.toLowerCase() }), address };
  if (req.kind === 'user') return { ...common, kind: 'user', forwards: [] };
  if (req.kind === 'tap') {
    if (typeof req.ifname !== 'string' || !IFNAME.test(req.ifname)) bad('nic.ifname', 'a tap NIC needs the name of an existing tap device (1-15 letters, digits, `_`, `.`, `-`)', req.ifname);
    return { ...common, kind: 'tap', ifname: req.ifname };
  }
  return bad('nic.kind', 'user or tap', req.kind);
}

/** `blockdev-add` arguments: the protocol node, then the format node (as -blockdev does at start). */
export function blockdevArgs(disk: DiskSpec): Record<string, unknown>[] {
  const names = diskNodeNames(disk.id);
  const direct = disk.cache === 'none' || disk.cache === 'directsync';
  const noFlush = disk.cache === 'unsafe';
  const cache = direct || noFlush ? { cache: { ...(direct ? { direct: true } : {}), ...(noFlush ? { 'no-flush': true } : {}) } } : {};
  const ro = disk.readonly ? { 'read-only': true } : {};
  return [
    { driver: 'file', 'node-name': names.file, filename: disk.path, ...cache, ...ro },
    { driver: disk.format, 'node-name': names.format, file: names.file, ...cache, ...ro },
  ];
}

function where(spec: DomainSpec, a: PciAddressSpec | undefined): Record<string, unknown> {
  if (a === undefined) return {};
  return { bus: pciBusId(pciRoot(spec.machine.type), a.bus), addr: `0x${a.slot.toString(16)}` };
}

export function diskDeviceArgs(spec: DomainSpec, disk: DiskSpec): Record<string, unknown> {
  const writeCache = disk.cache === undefined ? {} : { 'write-cache': disk.cache === 'writethrough' || disk.cache === 'directsync' ? 'off' : 'on' };
  return {
    driver: 'virtio-blk-pci',
    id: disk.id,
    drive: diskNodeNames(disk.id).format,
    ...(disk.serial === undefined ? {} : { serial: disk.serial }),
    ...writeCache,
    ...where(spec, disk.address?.type === 'pci' ? disk.address : undefined),
  };
}

/** `netdev_add` arguments. */
export function netdevArgs(nic: NicSpec): Record<string, unknown> {
  switch (nic.kind) {
    case 'user':
      return { type: 'user', id: nic.id, ...(nic.forwards.length === 0 ? {} : { hostfwd: nic.forwards.map((f) => ({ str: hostfwd(f) })) }) };
    case 'tap':
      return { type: 'tap', id: nic.id, ifname: nic.ifname, script: 'no', downscript: 'no' };
    default:
      throw new VmkitError('InvalidArgument', `Cannot hot-plug a ${nic.kind} NIC: use user or tap`, { details: { kind: nic.kind } });
  }
}

export function nicDeviceArgs(spec: DomainSpec, nic: NicSpec): Record<string, unknown> {
  return { driver: 'virtio-net-pci', netdev: nic.id, id: nic.id, ...(nic.mac === undefined ? {} : { mac: nic.mac }), ...where(spec, nic.address) };
}

/**
 * Checks a hot state received from a migration source (plain JSON) against the destination's spec:
 * each device as an attach request would be, on a root port this spec reserves. Returns it typed.
 */
export function checkHot(spec: DomainSpec, raw: unknown, reserved?: number): HotState {
  const { spec: base, ports } = reservePorts(spec, reserved);
  if (typeof raw !== 'object' || raw === null) bad('hot', 'the hot state is an object {disks, nics, removed, vcpus?}', raw);
  const o = raw as { disks?: unknown; nics?: unknown; removed?: unknown; vcpus?: unknown };
  const list = (v: unknown, field: string): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : bad(field, 'a list', v));
  const removed = list(o.removed, 'hot.removed').map((id, i) => {
    if (typeof id !== 'string' || ![...spec.disks, ...spec.nics].some((x) => x.id === id)) bad(`hot.removed[${i}]`, `not a device of domain '${spec.name}'`, id);
    return id;
  });
  const max = spec.cpu.maxVcpus ?? spec.cpu.vcpus;
  if (o.vcpus !== undefined && (typeof o.vcpus !== 'number' || !Number.isInteger(o.vcpus) || o.vcpus < 1 || o.vcpus > max)) bad('hot.vcpus', `1 to ${max}`, o.vcpus);
  const taken = new Set<number>();
  const port = (a: unknown, field: string): PciAddressSpec => {
    const p = a as Partial<PciAddressSpec> | undefined;
    if (p?.type !== 'pci' || p.domain !== 0 || p.slot !== 0 || p.function !== 0 || typeof p.bus !== 'number' || !ports.includes(p.bus) || taken.has(p.bus)) bad(field, 'slot 0 of a free PCIe root port reserved for hotplug', a);
    taken.add(p.bus);
    return { type: 'pci', domain: 0, bus: p.bus, slot: 0, function: 0 };
  };
  let cur: DomainSpec = { ...base, disks: base.disks.filter((x) => !removed.includes(x.id)), nics: base.nics.filter((x) => !removed.includes(x.id)) };
  const disks = list(o.disks, 'hot.disks').map((x, i) => {
    const r = x as AttachDiskRequest & { address?: unknown };
    const disk = hotDisk(cur, r, port(r.address, `hot.disks[${i}].address`));
    cur = { ...cur, disks: [...cur.disks, disk] };
    return disk;
  });
  const nics = list(o.nics, 'hot.nics').map((x, i) => {
    const r = x as AttachNicRequest & { address?: unknown };
    const nic = hotNic(cur, r, port(r.address, `hot.nics[${i}].address`));
    cur = { ...cur, nics: [...cur.nics, nic] };
    return nic;
  });
  return { disks, nics, removed, ...(o.vcpus === undefined ? {} : { vcpus: o.vcpus as number }) };
}
