/**
 * DomainSpec -> native vmkit YAML: the definition that parses back into the same spec (what `define({spec})`
 * checks a spec with, and stores). Specs of qemu-launcher files (with `rawOptions`) have no native form.
 * Paths are written absolute, as the spec holds them. Pure.
 */
import { stringify } from 'yaml';
import type { ControllerSpec, DomainSpec, DriveAddressSpec, NicSpec, PciAddressSpec, ThreadSched } from '../../model/domain.js';
import { formatAddress, formatUsbAddress } from '../../model/pci.js';
import { formatCpuSet } from '../../util/cpu-set.js';
import { formatSize } from '../size.js';
/** A mapping of the definition (its shape is checked when it is parsed back). */
type Plain = Record<string, unknown>;

/** Drops the keys whose value is undefined, so that absent stays absent. */
function compact(o: Plain): Plain {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function sched(s: ThreadSched | undefined): Plain | undefined {
  // `deadline` is in the model for qemu-launcher's sake; the native format refuses it, and so does the round trip.
  return s === undefined ? undefined : compact({ policy: s.policy, priority: s.priority });
}

function address(a: PciAddressSpec | DriveAddressSpec | undefined): string | undefined {
  return a === undefined ? undefined : formatAddress(a);
}

function controller(c: ControllerSpec): Plain {
  const common = { type: c.type, index: c.index, address: address(c.address) };
  switch (c.type) {
    case 'pci':
      return compact({ ...common, model: c.model, chassis: c.chassis, port: c.port });
    case 'usb':
      return compact({ ...common, model: c.model, ports: c.ports, master_startport: c.masterStartPort });
    case 'scsi':
      return compact({ ...common, model: c.model });
    case 'sata':
    case 'virtio-serial':
      return compact(common);
  }
}

function nic(n: NicSpec): Plain {
  const common = { mac: n.mac, boot_index: n.bootIndex, mtu: n.mtu, address: address(n.address) };
  switch (n.kind) {
    case 'user':
      return compact({
        type: 'user',
        model: n.model,
        ...common,
        forwards: n.forwards.map((f) => compact({ host: f.hostPort, guest: f.guestPort, protocol: f.protocol, address: f.hostAddress })),
      });
    case 'tap':
      return compact({ type: 'tap', ifname: n.ifname, model: n.model, ...common });
    case 'bridge':
      return compact({ type: 'bridge', bridge: n.bridge, model: n.model, ...common });
    case 'network':
      return compact({ type: 'network', network: n.network, model: n.model, ...common });
    case 'hostdev':
      return compact({ type: 'hostdev', host: n.host, managed: n.managed, mac: n.mac, boot_index: n.bootIndex, address: address(n.address) });
  }
}

/** The native definition of `spec`, as a plain value (the YAML document's content). */
export function nativeDefinition(spec: DomainSpec): Plain {
  const t = spec.tuning;
  const c = spec.clock;
  const timers =
    c === undefined
      ? undefined
      : compact({
          rtc: c.rtcTickPolicy === undefined ? undefined : { tickpolicy: c.rtcTickPolicy },
          pit: c.pitTickPolicy === undefined ? undefined : { tickpolicy: c.pitTickPolicy },
          hpet: c.hpet === undefined ? undefined : { present: c.hpet },
          kvmclock: c.kvmclock === undefined ? undefined : { present: c.kvmclock },
        });
  const boot = spec.boot;
  const hp = spec.memoryBacking.hugepages;
  return compact({
    name: spec.name,
    uuid: spec.uuid,
    title: spec.title,
    description: spec.description,
    lifecycle: spec.lifecycle === undefined ? undefined : { on_poweroff: spec.lifecycle.onPoweroff, on_reboot: spec.lifecycle.onReboot, on_crash: spec.lifecycle.onCrash },
    features: spec.features === undefined ? undefined : { acpi: spec.features.acpi },
    clock:
      c === undefined
        ? undefined
        : compact({ offset: c.offset, adjustment: c.adjustment, basis: c.basis, timers: timers === undefined || Object.keys(timers).length === 0 ? undefined : timers }),
    emulator: spec.emulator,
    machine: { type: spec.machine.type, accel: spec.machine.accel },
    cpu: compact({
      model: spec.cpu.model,
      vcpus: spec.cpu.vcpus,
      sockets: spec.cpu.sockets,
      cores: spec.cpu.cores,
      threads: spec.cpu.threads,
      max_vcpus: spec.cpu.maxVcpus,
      features: spec.cpu.features === undefined ? undefined : Object.fromEntries(spec.cpu.features.map((f) => [f.name, f.enabled])),
    }),
    memory: spec.memoryMiB,
    current_memory: spec.currentMemoryMiB,
    virtio_mem: spec.virtioMem === undefined ? undefined : compact({ size: spec.virtioMem.sizeMiB, requested: spec.virtioMem.requestedMiB, block: spec.virtioMem.blockMiB }),
    memory_backing: compact({
      hugepages: hp === undefined ? undefined : hp.pageSizeKiB === undefined && hp.path === undefined ? true : compact({ page_size: hp.pageSizeKiB === undefined ? undefined : formatSize(hp.pageSizeKiB * 1024), path: hp.path }),
      prealloc: spec.memoryBacking.prealloc,
      locked: spec.memoryBacking.locked,
    }),
    numa: spec.numaTune === undefined ? undefined : { mode: spec.numaTune.mode, nodes: formatCpuSet(spec.numaTune.hostNodes) },
    numa_cells:
      spec.numaCells.length === 0
        ? undefined
        : spec.numaCells.map((cell) => compact({ vcpus: formatCpuSet(cell.vcpus), memory: cell.memoryMiB, host_nodes: cell.hostNodes === undefined ? undefined : formatCpuSet(cell.hostNodes), mode: cell.mode })),
    boot:
      boot === undefined
        ? undefined
        : boot.kind === 'kernel'
          ? compact({ kernel: boot.kernel, initrd: boot.initrd, cmdline: boot.cmdline })
          : compact({
              firmware: boot.firmware,
              pflash: boot.pflash === undefined ? undefined : compact({ code: boot.pflash.code, readonly: boot.pflash.readonly, vars: boot.pflash.vars, vars_template: boot.pflash.varsTemplate }),
              order: [...boot.order],
            }),
    disks: spec.disks.map((d) =>
      compact({
        ...diskSourceFields(d),
        bus: d.bus, media: d.media, cache: d.cache, aio: d.aio, readonly: d.readonly, iothread: d.iothread, boot_index: d.bootIndex, serial: d.serial, address: address(d.address) }),
    ),
    nics: spec.nics.map(nic),
    serial:
      spec.serial.mode === 'console' || spec.serial.mode === 'none'
        ? spec.serial.mode
        : spec.serial.mode === 'file'
          ? { type: 'file', path: spec.serial.path, append: spec.serial.append }
          : { type: 'unix', path: spec.serial.path, server: spec.serial.server },
    graphics: spec.graphics.type === 'none' ? 'none' : compact({ type: 'vnc', listen: spec.graphics.listen, display: spec.graphics.display ?? 'auto', video_address: address(spec.graphics.videoAddress) }),
    balloon:
      spec.balloon === undefined
        ? undefined
        : compact({ stats_period: spec.balloon.statsPeriod, autodeflate: spec.balloon.autodeflate, free_page_reporting: spec.balloon.freePageReporting, address: address(spec.balloon.address) }),
    rngs: spec.rngs?.map((r) => compact(r.backend === 'random' ? { backend: 'random', source: r.source, address: address(r.address) } : { backend: 'builtin', address: address(r.address) })),
    hostdevs: spec.hostdevs?.map((h) => compact({ host: h.host, managed: h.managed, boot_index: h.bootIndex, address: address(h.address) })),
    inputs: spec.inputs?.map((i) => compact({ type: i.type, bus: i.bus, address: i.address === undefined ? undefined : formatUsbAddress(i.address) })),
    controllers: spec.controllers?.map(controller),
    iothreads: [...spec.iothreads],
    qemu_args: spec.qemuArgs.length === 0 ? undefined : [...spec.qemuArgs],
    env: Object.keys(spec.process.env).length === 0 ? undefined : { ...spec.process.env },
    clear_env: spec.process.clearEnv,
    user: spec.process.user,
    group: spec.process.group,
    tuning: compact({
      pinning: t.autoPin
        ? ('auto')
        : compact({
            vcpus: t.vcpuPins.length === 0 ? undefined : Object.fromEntries(t.vcpuPins.map((p) => [String(p.vcpu), formatCpuSet(p.cpus)])),
            emulator: t.emulatorPin === undefined ? undefined : formatCpuSet(t.emulatorPin),
            iothreads: t.iothreadPins.length === 0 ? undefined : Object.fromEntries(t.iothreadPins.map((p) => [p.iothread, formatCpuSet(p.cpus)])),
          }),
      scheduler: compact({ vcpus: sched(t.vcpuSched), emulator: sched(t.emulatorSched), iothreads: sched(t.iothreadSched) }),
      rlimit_memlock: t.rlimitMemlock === undefined ? undefined : t.rlimitMemlock === 'unlimited' ? ('unlimited') : formatSize(t.rlimitMemlock),
      isolate: t.isolate,
      debug: t.debug,
    }),
  });
}

/** The native YAML text of `spec` (see nativeDefinition). */
export function exportNativeYaml(spec: DomainSpec): string {
  return stringify(nativeDefinition(spec), { lineWidth: 0 });
}

/** A disk's source as the native format writes it: path + format, a volume (its format when given), or an image. */
function diskSourceFields(d: DomainSpec['disks'][number]): Record<string, unknown> {
  if (d.volume !== undefined) return { volume: d.volume.name, format: d.volume.format };
  if (d.image !== undefined) return { image: d.image.name, arch: d.image.arch, size: d.image.sizeBytes === undefined ? undefined : `${d.image.sizeBytes / 1048576}M` };
  return { path: d.path, format: d.format };
}
