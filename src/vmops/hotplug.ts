/**
 * Hotplug of disks, NICs and vCPUs into a running domain, through QMP, as jobs on the domain's queue:
 * - disk: blockdev-add (protocol + format node) then device_add (virtio-blk-pci on a reserved root port);
 * - NIC: netdev_add then device_add (virtio-net-pci on a reserved root port);
 * - unplug: device_del, then wait for DEVICE_DELETED (bounded); on time-out the request stays with the guest
 *   and the device's back end is removed whenever the guest lets go (the domain keeps listening);
 * - vCPUs: device_add of the next entries of query-hotpluggable-cpus (-smp maxcpus= gives the room). The
 *   guest's vCPUs are paused (QMP stop) around the add, and the new vCPU threads get the domain's pins and
 *   scheduler before `cont`: no guest code runs on a new vCPU before it is placed.
 * `persistent` makes the same change in the stored definition (persist.ts).
 */
import { VmkitError } from '../errors.js';
import type { DiskSpec, DomainSpec, NicSpec } from '../model/domain.js';
import type { Domain } from '../driver/domain.js';
import type { VmProcess } from '../driver/vm-process.js';
import type { QmpClient, QmpEvent } from '../qmp/index.js';
import { diskNodeNames } from '../qemu/argv/disks.js';
import { blockdevArgs, diskDeviceArgs, hotDisk, hotNic, netdevArgs, nicDeviceArgs, requireHotplugBus, type AttachDiskRequest, type AttachNicRequest } from './hotplug-args.js';
import { freePort, HOTPLUG_ROOT_PORTS, setHot } from './live.js';
import { checkPersistable, persistChange } from './persist.js';
import type { HotState, LiveRun } from './types.js';

export interface HotplugOptions {
  /** Also change the stored definition (virsh --config). */
  readonly persistent?: boolean;
  /** Unplug: how long to wait for the guest to let go (default 30 s). */
  readonly timeoutMs?: number;
}

export interface HotplugResult {
  readonly device: string;
  /** The reserved root port (controller index) it sits on. */
  readonly port?: number;
  readonly vcpus?: number;
  readonly persistent: boolean;
}

const LIVE = ['running', 'paused'] as const;

function liveOf(d: Domain, vm: VmProcess | undefined, op: string): { live: LiveRun; qmp: QmpClient; vm: VmProcess } {
  const qmp = vm?.qmp;
  if (vm === undefined || qmp === undefined || d.live === undefined) throw new VmkitError('InvalidState', `Cannot ${op} domain '${d.name}': it is not running`, { details: { domain: d.name } });
  return { live: d.live, qmp, vm };
}

function noPort(d: Domain, live: LiveRun, what: string): never {
  if (live.ports.length === 0) {
    throw new VmkitError('InvalidState', `Cannot hot-plug ${what} into domain '${d.name}': its connection reserves no PCIe root ports for hotplug (opened with hotplugPorts: 0); open the root without it (default ${HOTPLUG_ROOT_PORTS}) and restart the domain`, {
      details: { domain: d.name, ports: 0 },
    });
  }
  throw new VmkitError('InvalidState', `Cannot hot-plug ${what} into domain '${d.name}': all ${live.ports.length} PCIe root ports reserved for hotplug are in use (${[...live.used.values()].join(', ')}); unplug a device, or restart the domain to get fresh ones`, {
    details: { domain: d.name, ports: live.ports.length },
  });
}

/** Hot-plugs a virtio disk. Allowed in: running, paused. */
export function attachDisk(d: Domain, req: AttachDiskRequest, opts: HotplugOptions = {}): Promise<HotplugResult> {
  return d.vmJob('attach-disk', LIVE, async (vmp) => {
    const { live, qmp } = liveOf(d, vmp, 'attach a disk to');
    requireHotplugBus(live.spec, 'a disk');
    if (opts.persistent === true) checkPersistable(d);
    const address = freePort(live) ?? noPort(d, live, 'a disk');
    const disk = hotDisk(live.spec, req, address);
    const [file, format] = blockdevArgs(disk) as [Record<string, unknown>, Record<string, unknown>];
    const names = diskNodeNames(disk.id);
    await qmp.execute('blockdev-add', file);
    try {
      await qmp.execute('blockdev-add', format);
      try {
        await qmp.execute('device_add', diskDeviceArgs(live.spec, disk));
      } catch (e) {
        await qmp.execute('blockdev-del', { 'node-name': names.format }).catch(() => undefined);
        throw e;
      }
    } catch (e) {
      await qmp.execute('blockdev-del', { 'node-name': names.file }).catch(() => undefined);
      throw e;
    }
    setHot(live, { ...live.hot, disks: [...live.hot.disks, disk] });
    if (opts.persistent === true) await persistChange(d, (s) => ({ ...s, disks: [...s.disks, withoutAddress(disk)] }));
    d.announce('device', { reason: 'added', device: disk.id });
    return { device: disk.id, port: address.bus, persistent: opts.persistent === true };
  });
}

/** Hot-plugs a virtio NIC. Allowed in: running, paused. */
export function attachNic(d: Domain, req: AttachNicRequest, opts: HotplugOptions = {}): Promise<HotplugResult> {
  return d.vmJob('attach-nic', LIVE, async (vmp) => {
    const { live, qmp } = liveOf(d, vmp, 'attach a NIC to');
    requireHotplugBus(live.spec, 'a NIC');
    if (opts.persistent === true) checkPersistable(d);
    const address = freePort(live) ?? noPort(d, live, 'a NIC');
    const nic = hotNic(live.spec, req, address);
    await qmp.execute('netdev_add', netdevArgs(nic));
    try {
      await qmp.execute('device_add', nicDeviceArgs(live.spec, nic));
    } catch (e) {
      await qmp.execute('netdev_del', { id: nic.id }).catch(() => undefined);
      throw e;
    }
    setHot(live, { ...live.hot, nics: [...live.hot.nics, nic] });
    if (opts.persistent === true) await persistChange(d, (s) => ({ ...s, nics: [...s.nics, withoutAddress(nic)] }));
    d.announce('device', { reason: 'added', device: nic.id });
    return { device: nic.id, port: address.bus, persistent: opts.persistent === true };
  });
}

/** Unplugs a disk (hot-plugged or defined) and removes its block nodes. Allowed in: running, paused. */
export function detachDisk(d: Domain, id: string, opts: HotplugOptions = {}): Promise<HotplugResult> {
  return d.vmJob('detach-disk', LIVE, async (vmp) => {
    const { live, qmp, vm } = liveOf(d, vmp, 'detach a disk from');
    const disk = live.spec.disks.find((x) => x.id === id);
    if (disk === undefined) throw notAttached(d, 'disk', id, live.spec.disks);
    if (disk.bus !== 'virtio') throw new VmkitError('InvalidArgument', `Cannot unplug disk '${id}' of domain '${d.name}': it is a ${disk.bus} disk, and only virtio disks are PCI devices vmkit unplugs`, { details: { domain: d.name, disk: id, bus: disk.bus } });
    if (opts.persistent === true) checkPersistable(d);
    const names = diskNodeNames(id);
    const cleanup = async (): Promise<void> => {
      await qmp.execute('blockdev-del', { 'node-name': names.format }).catch(() => undefined);
      await qmp.execute('blockdev-del', { 'node-name': names.file }).catch(() => undefined);
      forget(live, id);
      d.announce('device', { reason: 'removed', device: id });
    };
    await unplug(d, vm, qmp, id, `disk '${id}'`, opts.timeoutMs ?? 30_000, cleanup);
    if (opts.persistent === true) await persistChange(d, (s) => ({ ...s, disks: s.disks.filter((x) => x.id !== id) }));
    return { device: id, persistent: opts.persistent === true };
  });
}

/** Unplugs a NIC (hot-plugged or defined) and removes its back end. Allowed in: running, paused. */
export function detachNic(d: Domain, id: string, opts: HotplugOptions = {}): Promise<HotplugResult> {
  return d.vmJob('detach-nic', LIVE, async (vmp) => {
    const { live, qmp, vm } = liveOf(d, vmp, 'detach a NIC from');
    const nic = live.spec.nics.find((x) => x.id === id);
    if (nic === undefined) throw notAttached(d, 'NIC', id, live.spec.nics);
    if (opts.persistent === true) checkPersistable(d);
    const cleanup = async (): Promise<void> => {
      if (nic.kind !== 'hostdev') await qmp.execute('netdev_del', { id }).catch(() => undefined);
      forget(live, id);
      d.announce('device', { reason: 'removed', device: id });
    };
    await unplug(d, vm, qmp, id, `NIC '${id}'`, opts.timeoutMs ?? 30_000, cleanup);
    if (opts.persistent === true) await persistChange(d, (s) => ({ ...s, nics: s.nics.filter((x) => x.id !== id) }));
    return { device: id, persistent: opts.persistent === true };
  });
}

/**
 * device_del, then DEVICE_DELETED within `timeoutMs`. On time-out the guest still holds the device: a
 * Timeout error says so, and `cleanup` runs whenever the guest lets go during this run.
 */
async function unplug(d: Domain, vm: VmProcess, qmp: QmpClient, id: string, what: string, timeoutMs: number, cleanup: () => Promise<void>): Promise<void> {
  let done = false;
  let late: ((ev: QmpEvent) => void) | undefined;
  const deleted = new Promise<void>((resolve) => {
    late = (ev: QmpEvent): void => {
      if (ev.event !== 'DEVICE_DELETED' || ev.data.device !== id) return;
      vm.off('qmpEvent', late!);
      if (done) void cleanup().catch(() => undefined);
      else resolve();
    };
    vm.on('qmpEvent', late);
  });
  try {
    await qmp.execute('device_del', { id });
  } catch (e) {
    vm.off('qmpEvent', late!);
    throw e;
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const ok = await Promise.race([deleted.then(() => true), expired]);
  clearTimeout(timer);
  if (ok) {
    await cleanup();
    return;
  }
  done = true; // from now on, a DEVICE_DELETED finishes the unplug in the background
  throw new VmkitError('Timeout', `The guest of domain '${d.name}' did not release ${what} within ${timeoutMs} ms (it may be in use); the unplug request stays pending: the device is removed when the guest lets go, or at the next restart`, {
    details: { domain: d.name, device: id, timeoutMs },
  });
}

function forget(live: LiveRun, id: string): void {
  const hot: HotState = {
    ...live.hot,
    disks: live.hot.disks.filter((x) => x.id !== id),
    nics: live.hot.nics.filter((x) => x.id !== id),
    removed: live.base.disks.some((x) => x.id === id) || live.base.nics.some((x) => x.id === id) ? [...live.hot.removed, id] : live.hot.removed,
  };
  setHot(live, hot);
}

function notAttached(d: Domain, what: string, id: string, have: readonly { id: string }[]): VmkitError {
  return new VmkitError('NotFound', `Domain '${d.name}' has no ${what} '${id}'${have.length === 0 ? '' : `; it has ${have.map((x) => x.id).join(', ')}`}`, { details: { domain: d.name, device: id } });
}

function withoutAddress<T extends DiskSpec | NicSpec>(x: T): T {
  const { address: _a, ...rest } = x;
  return rest as T;
}

interface HotpluggableCpu {
  readonly type: string;
  readonly 'vcpus-count': number;
  readonly props: Record<string, number>;
  readonly 'qom-path'?: string;
}

interface CpuFast {
  readonly 'cpu-index': number;
  readonly 'qom-path': string;
  readonly 'thread-id': number;
}

/** Sets the number of vCPUs (hot-plug up to `cpu.max_vcpus`, unplug hot-plugged ones). Allowed in: running, paused. */
export function setVcpus(d: Domain, count: number, opts: HotplugOptions = {}): Promise<HotplugResult> {
  return d.vmJob('setvcpus', LIVE, async (vmp) => {
    const { live, qmp, vm } = liveOf(d, vmp, 'set the vCPUs of');
    const spec = live.spec;
    const max = spec.cpu.maxVcpus ?? spec.cpu.vcpus;
    if (!Number.isInteger(count) || count < 1 || count > max) {
      throw new VmkitError('InvalidArgument', `vcpus: domain '${d.name}' can have 1 to ${max} vCPUs (cpu.max_vcpus${spec.cpu.maxVcpus === undefined ? ' is not set: define it to leave room for hotplug' : ''}); got ${count}`, {
        details: { domain: d.name, count, max },
      });
    }
    if (opts.persistent === true) checkPersistable(d);
    const slots = await qmp.execute<HotpluggableCpu[]>('query-hotpluggable-cpus');
    const present = slots.filter((s) => s['qom-path'] !== undefined);
    const now = present.reduce((n, s) => n + s['vcpus-count'], 0);
    if (count > now) await plugCpus(d, vm, qmp, slots, count - now);
    else if (count < now) await unplugCpus(d, vm, qmp, present, now - count, opts.timeoutMs ?? 30_000);
    setHot(live, { ...live.hot, vcpus: count });
    if (opts.persistent === true) await persistChange(d, (s) => ({ ...s, cpu: { ...s.cpu, vcpus: count } }));
    d.announce('device', { reason: count >= now ? 'added' : 'removed', device: 'vcpus' });
    return { device: 'vcpus', vcpus: count, persistent: opts.persistent === true };
  });
}

function key(p: Record<string, number>): number[] {
  return [p['socket-id'] ?? 0, p['die-id'] ?? 0, p['core-id'] ?? 0, p['thread-id'] ?? 0];
}

function byTopology(a: HotpluggableCpu, b: HotpluggableCpu): number {
  const ka = key(a.props);
  const kb = key(b.props);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return (ka[i] ?? 0) - (kb[i] ?? 0);
  return 0;
}

async function plugCpus(d: Domain, vm: VmProcess, qmp: QmpClient, slots: readonly HotpluggableCpu[], add: number): Promise<void> {
  const free = slots.filter((s) => s['qom-path'] === undefined).sort(byTopology).slice(0, add);
  const status = await qmp.execute<{ status: string; running: boolean }>('query-status');
  // Paused around the add: a new vCPU cannot run guest code before its thread is placed.
  if (status.running) await qmp.execute('stop');
  try {
    const ids: string[] = [];
    for (const s of free) {
      const id = `vcpu${key(s.props).join('-')}`;
      await qmp.execute('device_add', { driver: s.type, id, ...s.props });
      ids.push(id);
    }
    await placeNewCpus(d, qmp, ids);
  } finally {
    if (status.running && vm.running) await qmp.execute('cont');
  }
}

/** Gives the new vCPU threads the domain's pins and vCPU scheduler (tuning), by vCPU index. */
async function placeNewCpus(d: Domain, qmp: QmpClient, ids: readonly string[]): Promise<void> {
  const t = d.spec.tuning;
  if (t.vcpuPins.length === 0 && t.vcpuSched === undefined) return;
  const cpus = await qmp.execute<CpuFast[]>('query-cpus-fast');
  const { schedSetaffinity, schedSetscheduler } = await import('../sys/sched.js');
  for (const id of ids) {
    const c = cpus.find((x) => x['qom-path'] === `/machine/peripheral/${id}`);
    if (c === undefined) continue;
    const pin = t.vcpuPins.find((p) => p.vcpu === c['cpu-index']);
    if (pin !== undefined) schedSetaffinity(c['thread-id'], pin.cpus);
    if (t.vcpuSched !== undefined) schedSetscheduler(c['thread-id'], t.vcpuSched.policy, t.vcpuSched.priority ?? 0);
  }
}

async function unplugCpus(d: Domain, vm: VmProcess, qmp: QmpClient, present: readonly HotpluggableCpu[], remove: number, timeoutMs: number): Promise<void> {
  // The highest first; the boot vCPU (socket 0, core 0, thread 0) never.
  const victims = [...present].sort(byTopology).reverse().filter((s) => key(s.props).some((k) => k !== 0)).slice(0, remove);
  for (const s of victims) {
    const path = s['qom-path'] ?? '';
    const deleted = qmp.waitForEvent('DEVICE_DELETED', { timeoutMs, filter: (ev) => ev.data.path === path });
    deleted.catch(() => undefined);
    await qmp.execute('device_del', { id: path });
    try {
      await deleted;
    } catch (e) {
      throw new VmkitError('Timeout', `The guest of domain '${d.name}' did not give up vCPU ${path} within ${timeoutMs} ms; the request stays pending`, { cause: e, details: { domain: d.name, cpu: path, timeoutMs } });
    }
    void vm;
  }
}

/** The spec `d` runs with now (the definition when shut off). */
export function liveSpec(d: Domain): DomainSpec {
  return d.live?.spec ?? d.spec;
}
