/**
 * DomainSpec -> libvirt domain XML (what `vmkit dumpxml` writes). Everything libvirt has an element for is
 * written as that element, in libvirt's own order; vmkit-only settings go into `<metadata>` under the vmkit
 * namespace, which libvirt keeps as it is. Importing the result gives the same DomainSpec. Pure.
 */
import { VmkitError } from '../../errors.js';
import type { ControllerSpec, DiskSpec, DomainSpec, DriveAddressSpec, HostdevSpec, NicSpec, PciAddressSpec, RngSpec, SerialSpec, ThreadSched } from '../../model/domain.js';
import { formatCpuSet } from '../../util/cpu-set.js';
import { DEFAULT_EMULATOR } from '../native/resolve-domain.js';
import { diskName } from './read-disks.js';
import { VMKIT_NS } from './read-metadata.js';
import { QEMU_NS } from './read-qemu.js';
import { el, serialize, type XmlNode } from './xml-writer.js';

const BOOT_DEV = { disk: 'hd', cdrom: 'cdrom', network: 'network' } as const;
const TARGET_PREFIX = { virtio: 'vd', scsi: 'sd', sata: 'sd', ide: 'hd' } as const;

/** The libvirt XML for `spec`. Throws VmkitError InvalidArgument for a qemu-launcher spec (see below). */
export function exportLibvirtXml(spec: DomainSpec): string {
  if (spec.rawOptions !== undefined) {
    throw new VmkitError(
      'InvalidArgument',
      `Cannot write domain ${spec.name} as libvirt XML: it is a qemu-launcher definition, whose QEMU options are passed through as written instead of being described; keep its YAML`,
      { details: { name: spec.name } },
    );
  }
  const sourced = spec.disks.findIndex((d) => d.volume !== undefined || d.image !== undefined);
  if (sourced >= 0) {
    const d = spec.disks[sourced] as DiskSpec;
    throw new VmkitError(
      'InvalidArgument',
      `Cannot write domain ${spec.name} as libvirt XML: disks[${sourced}] is ${d.volume !== undefined ? `vmkit volume '${d.volume.name}'` : `an overlay on template '${d.image?.name ?? ''}'`}, which libvirt has no pool for (a <disk type='volume'> names a libvirt storage pool); keep its YAML (vmkit dump)`,
      { details: { name: spec.name, disk: sourced } },
    );
  }
  const meta: XmlNode[] = [];
  const m = (name: string, attrs: readonly (readonly [string, string | number | undefined])[] = [], content: string | readonly XmlNode[] = []): void => {
    meta.push(el(`vmkit:${name}`, attrs, content));
  };
  if (spec.machine.accel === 'auto') m('accel', [], 'auto');
  if (!spec.emulator.startsWith('/') && spec.emulator !== DEFAULT_EMULATOR) m('emulator', [], spec.emulator);
  const p = spec.process;
  if (p.user !== undefined || p.group !== undefined || p.clearEnv) {
    m('process', [
      ['user', p.user],
      ['group', p.group],
      ['clear-env', p.clearEnv ? 'yes' : undefined],
    ]);
  }
  const t = spec.tuning;
  const other = (s: ThreadSched | undefined): string | undefined => (s?.policy === 'other' ? 'other' : undefined);
  const tuningAttrs = [
    ['pinning', t.autoPin ? 'auto' : undefined],
    ['isolate', t.isolate ? 'yes' : undefined],
    ['debug', t.debug ? 'yes' : undefined],
    ['rlimit-memlock', t.rlimitMemlock],
    ['vcpu-scheduler', other(t.vcpuSched)],
    ['emulator-scheduler', other(t.emulatorSched)],
    ['iothread-scheduler', other(t.iothreadSched)],
  ] as const;
  if (tuningAttrs.some((a) => a[1] !== undefined)) m('tuning', tuningAttrs);
  if (spec.boot === undefined) m('boot', [['mode', 'unset']]);
  else if (spec.boot.kind === 'firmware' && spec.boot.order.length === 0 && !spec.disks.some((d) => d.bootIndex !== undefined)) m('boot', [['mode', 'qemu-order']]);
  if (spec.memoryBacking.hugepages?.path !== undefined) m('hugepages', [['path', spec.memoryBacking.hugepages.path]]);
  const ioIds = iothreadIds(spec.iothreads);
  spec.iothreads.forEach((name, i) => {
    const id = ioIds[i] as number;
    if (name !== `iothread${id}`) m('iothread', [['id', id], ['name', name]]);
  });

  const qemuArgs = spec.qemuArgs;
  const env = Object.entries(spec.process.env);
  const qemuCmd = qemuArgs.length > 0 || env.length > 0;
  const root = el('domain', [['type', spec.machine.accel === 'tcg' ? 'qemu' : 'kvm'], ['xmlns:qemu', qemuCmd ? QEMU_NS : undefined]], [
    el('name', [], spec.name),
    spec.uuid !== undefined && el('uuid', [], spec.uuid),
    spec.title !== undefined && el('title', [], spec.title),
    spec.description !== undefined && el('description', [], spec.description),
    meta.length > 0 && el('metadata', [], [el('vmkit:domain', [['xmlns:vmkit', VMKIT_NS]], meta)]),
    el('memory', [['unit', 'MiB']], String(spec.memoryMiB)),
    el('currentMemory', [['unit', 'MiB']], String(spec.currentMemoryMiB ?? spec.memoryMiB)),
    memoryBacking(spec),
    vcpu(spec),
    ...iothreads(ioIds),
    cputune(spec, ioIds),
    numatune(spec),
    os(spec),
    el('features', [], [spec.features?.acpi !== false && el('acpi'), el('apic')]),
    cpu(spec),
    clock(spec),
    ...lifecycle(spec),
    devices(spec, ioIds),
    qemuCmd &&
      el('qemu:commandline', [], [
        ...qemuArgs.map((a) => el('qemu:arg', [['value', a]])),
        ...env.map(([k, v]) => el('qemu:env', [['name', k], ['value', v]])),
      ]),
  ]);
  return serialize(root);
}

/** libvirt iothread ids for vmkit's names: `iothread<N>` keeps N, other names take the lowest free ids. */
function iothreadIds(names: readonly string[]): number[] {
  const ids: (number | undefined)[] = names.map((n) => {
    const mm = /^iothread([1-9]\d{0,8})$/.exec(n);
    return mm === null ? undefined : Number(mm[1]);
  });
  const used = new Set(ids.filter((x): x is number => x !== undefined));
  let next = 1;
  return ids.map((id) => {
    if (id !== undefined) return id;
    while (used.has(next)) next++;
    used.add(next);
    return next;
  });
}

function memoryBacking(spec: DomainSpec): XmlNode | undefined {
  const mb = spec.memoryBacking;
  if (mb.hugepages === undefined && !mb.locked && !mb.prealloc) return undefined;
  const size = mb.hugepages?.pageSizeKiB;
  return el('memoryBacking', [], [
    mb.hugepages !== undefined && el('hugepages', [], size === undefined ? [] : [el('page', [['size', size], ['unit', 'KiB']])]),
    mb.locked && el('locked'),
    mb.prealloc && el('allocation', [['mode', 'immediate']]),
  ]);
}

function iothreads(ids: readonly number[]): XmlNode[] {
  if (ids.length === 0) return [];
  const canonical = ids.every((id, i) => id === i + 1);
  return [el('iothreads', [], String(ids.length)), !canonical && el('iothreadids', [], ids.map((id) => el('iothread', [['id', id]])))].filter(
    (x): x is XmlNode => x !== false,
  );
}

function schedAttrs(s: ThreadSched): [string, string | number | undefined][] {
  return [
    ['scheduler', s.policy],
    ['priority', s.priority],
  ];
}

function cputune(spec: DomainSpec, ids: readonly number[]): XmlNode | undefined {
  const t = spec.tuning;
  const idOf = (name: string): number | undefined => ids[spec.iothreads.indexOf(name)];
  const kids = [
    ...t.vcpuPins.map((pin) => el('vcpupin', [['vcpu', pin.vcpu], ['cpuset', formatCpuSet(pin.cpus)]])),
    t.emulatorPin !== undefined && el('emulatorpin', [['cpuset', formatCpuSet(t.emulatorPin)]]),
    ...t.iothreadPins.map((pin) => el('iothreadpin', [['iothread', idOf(pin.iothread)], ['cpuset', formatCpuSet(pin.cpus)]])),
    t.vcpuSched !== undefined && t.vcpuSched.policy !== 'other' && el('vcpusched', [['vcpus', `0-${spec.cpu.vcpus - 1}`], ...schedAttrs(t.vcpuSched)]),
    t.iothreadSched !== undefined &&
      t.iothreadSched.policy !== 'other' &&
      el('iothreadsched', [['iothreads', formatCpuSet([...ids].sort((a, b) => a - b))], ...schedAttrs(t.iothreadSched)]),
    t.emulatorSched !== undefined && t.emulatorSched.policy !== 'other' && el('emulatorsched', schedAttrs(t.emulatorSched)),
  ].filter((x): x is XmlNode => x !== false);
  return kids.length === 0 ? undefined : el('cputune', [], kids);
}

function numatune(spec: DomainSpec): XmlNode | undefined {
  const nt = spec.numaTune;
  const nodes = spec.numaCells
    .map((c) => {
      const hostNodes = c.hostNodes ?? (c.mode === undefined ? undefined : nt?.hostNodes);
      const mode = c.mode ?? nt?.mode ?? 'strict';
      return hostNodes === undefined ? undefined : el('memnode', [['cellid', c.id], ['mode', mode], ['nodeset', formatCpuSet(hostNodes)]]);
    })
    .filter((x): x is XmlNode => x !== undefined);
  if (nt === undefined && nodes.length === 0) return undefined;
  return el('numatune', [], [nt !== undefined && el('memory', [['mode', nt.mode], ['nodeset', formatCpuSet(nt.hostNodes)]]), ...nodes]);
}

function os(spec: DomainSpec): XmlNode {
  const b = spec.boot;
  const kids: (XmlNode | false)[] = [el('type', [['arch', 'x86_64'], ['machine', spec.machine.type]], 'hvm')];
  if (b?.kind === 'kernel') {
    kids.push(el('kernel', [], b.kernel), b.initrd !== undefined && el('initrd', [], b.initrd), b.cmdline !== undefined && el('cmdline', [], b.cmdline));
  } else if (b?.kind === 'firmware') {
    kids.push(b.firmware !== undefined && el('loader', [['readonly', 'yes'], ['type', 'rom']], b.firmware));
    const p = b.pflash;
    kids.push(p !== undefined && el('loader', [['readonly', p.readonly ? 'yes' : 'no'], ['type', 'pflash']], p.code));
    kids.push(p?.vars !== undefined && el('nvram', [['template', p.varsTemplate]], p.vars));
    kids.push(...b.order.map((o) => el('boot', [['dev', BOOT_DEV[o]]])));
  }
  return el('os', [], kids);
}

function cpu(spec: DomainSpec): XmlNode {
  const c = spec.cpu;
  const topology = el('topology', [['sockets', c.sockets], ['dies', 1], ['cores', c.cores], ['threads', c.threads]]);
  const numa =
    spec.numaCells.length > 0 &&
    el('numa', [], spec.numaCells.map((cell) => el('cell', [['id', cell.id], ['cpus', formatCpuSet(cell.vcpus)], ['memory', cell.memoryMiB], ['unit', 'MiB']])));
  const features = (c.features ?? []).map((f) => el('feature', [['policy', f.enabled ? 'require' : 'disable'], ['name', f.name]]));
  const kids = [topology, ...features, numa];
  if (c.model === 'host') return el('cpu', [['mode', 'host-passthrough'], ['check', 'none'], ['migratable', 'on']], kids);
  if (c.model === 'max') return el('cpu', [['mode', 'maximum'], ['check', 'none'], ['migratable', 'on']], kids);
  if (c.model === undefined) return el('cpu', [['mode', 'custom']], kids);
  return el('cpu', [['mode', 'custom'], ['match', 'exact'], ['check', 'none']], [el('model', [['fallback', 'forbid']], c.model), ...kids]);
}

// ---- domain-level settings (issue 6): vcpu current, clock, lifecycle ----
function vcpu(spec: DomainSpec): XmlNode {
  const max = spec.cpu.maxVcpus;
  return max === undefined ? el('vcpu', [['placement', 'static']], String(spec.cpu.vcpus)) : el('vcpu', [['placement', 'static'], ['current', spec.cpu.vcpus]], String(max));
}

function clock(spec: DomainSpec): XmlNode {
  const c = spec.clock;
  if (c === undefined) return el('clock', [['offset', 'utc']]);
  const timers = [
    c.rtcTickPolicy !== undefined && el('timer', [['name', 'rtc'], ['tickpolicy', c.rtcTickPolicy]]),
    c.pitTickPolicy !== undefined && el('timer', [['name', 'pit'], ['tickpolicy', c.pitTickPolicy]]),
    c.hpet !== undefined && el('timer', [['name', 'hpet'], ['present', c.hpet ? 'yes' : 'no']]),
    c.kvmclock !== undefined && el('timer', [['name', 'kvmclock'], ['present', c.kvmclock ? 'yes' : 'no']]),
  ];
  const variable = c.offset === 'variable';
  return el('clock', [['offset', c.offset], ['adjustment', variable ? (c.adjustment ?? 0) : undefined], ['basis', variable ? (c.basis ?? 'utc') : undefined]], timers);
}

/** Written only when the definition has policies: without them the daemon's own record decides. */
function lifecycle(spec: DomainSpec): XmlNode[] {
  const l = spec.lifecycle;
  if (l === undefined) return [];
  return [el('on_poweroff', [], l.onPoweroff), el('on_reboot', [], l.onReboot), el('on_crash', [], l.onCrash)];
}

function isBlockPath(path: string): boolean {
  return path.startsWith('/dev/') && !/^\/dev\/(shm|hugepages[^/]*|mqueue)\//.test(path);
}

function disks(spec: DomainSpec, ioIds: readonly number[]): XmlNode[] {
  const next: Record<string, number> = {};
  return spec.disks.map((d: DiskSpec) => {
    const prefix = TARGET_PREFIX[d.bus];
    const index = next[prefix] ?? 0;
    next[prefix] = index + 1;
    const block = isBlockPath(d.path);
    const iothread = d.iothread === undefined ? undefined : ioIds[spec.iothreads.indexOf(d.iothread)];
    return el('disk', [['type', block ? 'block' : 'file'], ['device', d.media]], [
      el('driver', [['name', 'qemu'], ['type', d.format], ['cache', d.cache], ['io', d.aio], ['iothread', iothread]]),
      el('source', [[block ? 'dev' : 'file', d.path]]),
      el('target', [['dev', diskName(prefix, index)], ['bus', d.bus]]),
      d.bootIndex !== undefined && el('boot', [['order', d.bootIndex]]),
      d.readonly && el('readonly'),
      d.serial !== undefined && el('serial', [], d.serial),
      guestAddress(d.address),
    ]);
  });
}

// ---- devices (issue 6) ----

const hx = (n: number, w: number): string => `0x${n.toString(16).padStart(w, '0')}`;

/** A guest `<address type='pci'|'drive'>`, as virsh dumpxml writes it. */
function guestAddress(a: PciAddressSpec | DriveAddressSpec | undefined): XmlNode | undefined {
  if (a === undefined) return undefined;
  if (a.type === 'drive') return el('address', [['type', 'drive'], ['controller', a.controller], ['bus', a.bus], ['target', a.target], ['unit', a.unit]]);
  return el('address', [
    ['type', 'pci'],
    ['domain', hx(a.domain, 4)],
    ['bus', hx(a.bus, 2)],
    ['slot', hx(a.slot, 2)],
    ['function', hx(a.function, 1)],
    ['multifunction', a.multifunction === true ? 'on' : undefined],
  ]);
}

function controllerNode(c: ControllerSpec): XmlNode {
  const address = guestAddress(c.address);
  switch (c.type) {
    case 'pci': {
      const target =
        c.model === 'pcie-root-port'
          ? (c.chassis !== undefined || c.port !== undefined) && el('target', [['chassis', c.chassis], ['port', c.port === undefined ? undefined : hx(c.port, 2)]])
          : c.model === 'pci-bridge' && c.chassis !== undefined && el('target', [['chassisNr', c.chassis]]);
      return el('controller', [['type', 'pci'], ['index', c.index], ['model', c.model]], [target, address]);
    }
    case 'usb':
      return el('controller', [['type', 'usb'], ['index', c.index], ['model', c.model], ['ports', c.ports]], [c.masterStartPort !== undefined && el('master', [['startport', c.masterStartPort]]), address]);
    case 'scsi':
      return el('controller', [['type', 'scsi'], ['index', c.index], ['model', 'virtio-scsi']], [address]);
    case 'sata':
    case 'virtio-serial':
      return el('controller', [['type', c.type], ['index', c.index]], [address]);
  }
}

function controllerNodes(spec: DomainSpec): XmlNode[] {
  const listed = spec.controllers ?? [];
  return [
    // The SCSI controller vmkit adds for SCSI disks, and "no USB" (libvirt would add a USB controller).
    spec.disks.some((d) => d.bus === 'scsi') && !listed.some((c) => c.type === 'scsi' && c.index === 0) && el('controller', [['type', 'scsi'], ['index', 0], ['model', 'virtio-scsi']]),
    !listed.some((c) => c.type === 'usb') && el('controller', [['type', 'usb'], ['index', 0], ['model', 'none']]),
    ...listed.map(controllerNode),
  ].filter((x): x is XmlNode => x !== false);
}

/** `<address [type='pci'] domain bus slot function>` for `dddd:bb:ss.f` (libvirt's schema wants type on interfaces, not on hostdevs). */
function pciAddressNode(host: string, typed: boolean): XmlNode {
  const [domain, bus, slotFn] = host.split(':') as [string, string, string];
  const [slot, fn] = slotFn.split('.') as [string, string];
  return el('address', [['type', typed ? 'pci' : undefined], ['domain', `0x${domain}`], ['bus', `0x${bus}`], ['slot', `0x${slot}`], ['function', `0x${fn}`]]);
}

function nic(n: NicSpec): XmlNode {
  const boot = n.bootIndex !== undefined && el('boot', [['order', n.bootIndex]]);
  const mtu = n.mtu !== undefined && el('mtu', [['size', n.mtu]]);
  const address = guestAddress(n.address);
  if (n.kind === 'hostdev') {
    return el('interface', [['type', 'hostdev'], ['managed', n.managed === true ? 'yes' : 'no']], [
      n.mac !== undefined && el('mac', [['address', n.mac]]),
      el('driver', [['name', 'vfio']]),
      el('source', [], [pciAddressNode(n.host, true)]),
      boot,
      address,
    ]);
  }
  const mac = n.mac !== undefined && el('mac', [['address', n.mac]]);
  const model = el('model', [['type', n.model]]);
  if (n.kind === 'tap') return el('interface', [['type', 'ethernet']], [mac, el('target', [['dev', n.ifname], ['managed', 'no']]), model, boot, mtu, address]);
  if (n.kind === 'bridge') {
    return el('interface', [['type', 'bridge']], [mac, el('source', [['bridge', n.bridge]]), model, boot, mtu, address]);
  }
  if (n.kind === 'network') {
    return el('interface', [['type', 'network']], [mac, el('source', [['network', n.network]]), model, boot, mtu, address]);
  }
  return el('interface', [['type', 'user']], [
    mac,
    model,
    ...n.forwards.map((f) =>
      el('portForward', [['proto', f.protocol], ['address', f.hostAddress ?? '127.0.0.1']], [el('range', [['start', f.hostPort], ['to', f.guestPort]])]),
    ),
    boot,
    mtu,
    address,
  ]);
}

function serialNodes(s: SerialSpec): XmlNode[] {
  const target = el('target', [['type', 'isa-serial'], ['port', 0]], [el('model', [['name', 'isa-serial']])]);
  switch (s.mode) {
    case 'none':
      return [];
    case 'console':
      return [el('serial', [['type', 'pty']], [target]), el('console', [['type', 'pty']], [el('target', [['type', 'serial'], ['port', 0]])])];
    case 'file':
      return [el('serial', [['type', 'file']], [el('source', [['path', s.path], ['append', s.append ? 'on' : undefined]]), target])];
    case 'unix':
      return [el('serial', [['type', 'unix']], [el('source', [['mode', s.server ? 'bind' : 'connect'], ['path', s.path]]), target])];
  }
}

function hostdevNode(h: HostdevSpec): XmlNode {
  return el('hostdev', [['mode', 'subsystem'], ['type', 'pci'], ['managed', h.managed === true ? 'yes' : 'no']], [
    el('driver', [['name', 'vfio']]),
    el('source', [], [pciAddressNode(h.host, false)]),
    h.bootIndex !== undefined && el('boot', [['order', h.bootIndex]]),
    guestAddress(h.address),
  ]);
}

function balloonNode(spec: DomainSpec): XmlNode {
  const b = spec.balloon;
  if (b === undefined) return el('memballoon', [['model', 'none']]);
  return el('memballoon', [['model', 'virtio'], ['autodeflate', b.autodeflate ? 'on' : undefined], ['freePageReporting', b.freePageReporting ? 'on' : undefined]], [
    b.statsPeriod !== undefined && el('stats', [['period', b.statsPeriod]]),
    guestAddress(b.address),
  ]);
}

function rngNode(r: RngSpec): XmlNode {
  return el('rng', [['model', 'virtio']], [r.backend === 'random' ? el('backend', [['model', 'random']], r.source) : el('backend', [['model', 'builtin']]), guestAddress(r.address)]);
}

function devices(spec: DomainSpec, ioIds: readonly number[]): XmlNode {
  const g = spec.graphics;
  return el('devices', [], [
    spec.emulator.startsWith('/') && el('emulator', [], spec.emulator),
    ...disks(spec, ioIds),
    ...controllerNodes(spec),
    ...spec.nics.map(nic),
    ...serialNodes(spec.serial),
    ...(spec.inputs ?? []).map((d) =>
      el('input', [['type', d.type], ['bus', d.bus]], [d.address !== undefined && el('address', [['type', 'usb'], ['bus', d.address.bus], ['port', d.address.port]])]),
    ),
    g.type === 'vnc' &&
      el(
        'graphics',
        [['type', 'vnc'], ['port', g.display === undefined ? -1 : 5900 + g.display], ['autoport', g.display === undefined ? 'yes' : 'no'], ['listen', g.listen]],
        [el('listen', [['type', 'address'], ['address', g.listen]])],
      ),
    g.type === 'vnc' && el('video', [], [el('model', [['type', 'vga'], ['heads', 1], ['primary', 'yes']]), guestAddress(g.videoAddress)]),
    ...(spec.hostdevs ?? []).map(hostdevNode),
    balloonNode(spec),
    ...(spec.rngs ?? []).map(rngNode),
  ]);
}
