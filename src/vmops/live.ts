/**
 * The spec a run starts from and how hot-plugged devices change it (pure). On q35 every start reserves
 * HOTPLUG_ROOT_PORTS free PCIe root ports after the definition's controllers, so hotplug never fails for
 * lack of a slot; a hot-plugged PCI device goes to slot 0 of a free one. The same spec plus the same hot
 * state gives the same guest layout, which is what a restore or an incoming migration needs.
 */
import type { ControllerSpec, DiskSpec, DomainSpec, PciAddressSpec } from '../model/domain.js';
import { pciRoot } from '../model/pci.js';
import { NO_HOT, type HotState, type LiveRun } from './types.js';

/** PCIe root ports reserved for hotplug at each start of a q35 domain (`show` says how many are free). */
export const HOTPLUG_ROOT_PORTS = 4;
/** Most root ports a root may reserve per start (the pcie.0 slots left for the definition's own devices). */
export const MAX_HOTPLUG_ROOT_PORTS = 16;

/** The spec with the reserved root ports, and their controller indexes (none on machines other than q35, or raw qemu-launcher specs). */
export function reservePorts(spec: DomainSpec, count = HOTPLUG_ROOT_PORTS): { spec: DomainSpec; ports: number[] } {
  if (count === 0 || pciRoot(spec.machine.type) !== 'q35' || spec.rawOptions !== undefined) return { spec, ports: [] };
  const ctrls = spec.controllers ?? [];
  const pci = ctrls.filter((c): c is Extract<ControllerSpec, { type: 'pci' }> => c.type === 'pci');
  const nextIndex = Math.max(0, ...pci.map((c) => c.index)) + 1;
  // chassis/port numbers must not repeat (QEMU refuses): start above every one in use.
  const nextChassis = Math.max(0, ...pci.map((c) => Math.max(c.index, c.chassis ?? 0, c.port ?? 0))) + 1;
  const ports: number[] = [];
  const added: ControllerSpec[] = [];
  for (let i = 0; i < count; i++) {
    ports.push(nextIndex + i);
    added.push({ type: 'pci', index: nextIndex + i, model: 'pcie-root-port', chassis: nextChassis + i, port: nextChassis + i });
  }
  return { spec: { ...spec, controllers: [...ctrls, ...added] }, ports };
}

/** `base` with the hot state applied: unplugged devices left out, hot-plugged ones added, vCPUs and virtio-mem's requested size set. */
export function applyHot(base: DomainSpec, hot: HotState): DomainSpec {
  if (hot === NO_HOT || (hot.disks.length === 0 && hot.nics.length === 0 && hot.removed.length === 0 && hot.vcpus === undefined && hot.memRequestedMiB === undefined)) return base;
  const removed = new Set(hot.removed);
  return {
    ...base,
    disks: [...base.disks.filter((d) => !removed.has(d.id)), ...hot.disks],
    nics: [...base.nics.filter((n) => !removed.has(n.id)), ...hot.nics],
    cpu: hot.vcpus === undefined ? base.cpu : { ...base.cpu, vcpus: hot.vcpus },
    ...(hot.memRequestedMiB === undefined || base.virtioMem === undefined ? {} : { virtioMem: { ...base.virtioMem, requestedMiB: hot.memRequestedMiB } }),
  };
}

/** The spec to start QEMU with and the live run it begins (with `hot` from a saved state or a migration source). */
export function liveLaunch(spec: DomainSpec, hot: HotState = NO_HOT, ports = HOTPLUG_ROOT_PORTS): { spec: DomainSpec; live: LiveRun } {
  const { spec: base, ports: reserved } = reservePorts(spec, ports);
  const live: LiveRun = { base, spec: applyHot(base, hot), hot, ports: reserved, used: new Map() };
  markUsed(live);
  return { spec: live.spec, live };
}

/** Recomputes the live spec and the reserved ports in use after the hot state changed. */
export function setHot(live: LiveRun, hot: HotState): void {
  live.hot = hot;
  live.spec = applyHot(live.base, hot);
  markUsed(live);
}

function markUsed(live: LiveRun): void {
  live.used.clear();
  const ports = new Set(live.ports);
  for (const d of [...live.spec.disks, ...live.spec.nics]) {
    const a = d.address;
    if (a?.type === 'pci' && ports.has(a.bus)) live.used.set(a.bus, d.id);
  }
}

/** A free reserved root port's slot, or undefined when all are taken. */
export function freePort(live: LiveRun): PciAddressSpec | undefined {
  const port = live.ports.find((p) => !live.used.has(p));
  return port === undefined ? undefined : { type: 'pci', domain: 0, bus: port, slot: 0, function: 0 };
}

/** A disk of the run now writes to another image (an external snapshot's overlay, or back after a commit). */
export function retargetDisk(live: LiveRun, id: string, path: string, format: DiskSpec['format']): void {
  const move = (d: DiskSpec): DiskSpec => (d.id === id ? { ...d, path, format } : d);
  live.base = { ...live.base, disks: live.base.disks.map(move) };
  setHot(live, { ...live.hot, disks: live.hot.disks.map(move) });
}
