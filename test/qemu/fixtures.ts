/**
 * DomainSpec fixtures for the argv golden tests, one case per feature. Every file a case refers to lives
 * under `root` (the golden files use /srv/vmkit; the QEMU acceptance test uses a temporary directory and
 * creates the files), except hugepages' default mount point.
 */

import type { ArgvContext } from '../../src/qemu/argv/index.js';
import type { DiskSpec, DomainSpec, NicSpec, PciAddressSpec } from '../../src/model/domain.js';
import { DEFAULT_MEMORY_BACKING, EMPTY_TUNING } from '../../src/model/domain.js';

export const GOLDEN_ROOT = '/srv/vmkit';

export function argvContext(root: string = GOLDEN_ROOT, accel: 'kvm' | 'tcg' = 'tcg'): ArgvContext {
  return {
    accel,
    // A fixed start time, for `clock.offset: variable` (the only time-dependent option).
    now: new Date('2026-01-02T03:04:05Z'),
    paths: { qmpSocket: `${root}/run/qmp.sock`, consoleSocket: `${root}/run/console.sock`, pidFile: `${root}/run/qemu.pid` },
  };
}

export function baseSpec(root: string = GOLDEN_ROOT): DomainSpec {
  return {
    name: 'demo',
    emulator: 'qemu-system-x86_64',
    machine: { type: 'q35', accel: 'auto' },
    cpu: { vcpus: 1, sockets: 1, cores: 1, threads: 1 },
    memoryMiB: 128,
    memoryBacking: DEFAULT_MEMORY_BACKING,
    numaCells: [],
    disks: [],
    nics: [],
    serial: { mode: 'console' },
    graphics: { type: 'none' },
    iothreads: [],
    qemuArgs: [],
    tuning: EMPTY_TUNING,
    process: { env: {}, clearEnv: false },
    source: { format: 'vmkit-yaml', file: `${root}/demo.yaml` },
  };
}

export function disk(root: string, id: string, over: Partial<DiskSpec> = {}): DiskSpec {
  return { id, path: `${root}/images/${id}.qcow2`, format: 'qcow2', bus: 'virtio', media: 'disk', readonly: false, ...over };
}

function cdrom(root: string, id: string, over: Partial<DiskSpec> = {}): DiskSpec {
  return disk(root, id, { path: `${root}/images/${id}.iso`, format: 'raw', media: 'cdrom', readonly: true, ...over });
}

/** `pci(bus, slot, fn)`: a guest PCI address. */
export function pci(bus: number, slot: number, fn = 0, multifunction = false): PciAddressSpec {
  return { type: 'pci', domain: 0, bus, slot, function: fn, ...(multifunction ? { multifunction: true } : {}) };
}

function userNic(id: string, over: Partial<NicSpec> = {}): NicSpec {
  return { kind: 'user', id, model: 'virtio', forwards: [], ...over } as NicSpec;
}

/** Host features a case needs beyond QEMU itself. */
export type CaseNeed = 'hugepages' | 'tap';

export interface ArgvCase {
  /** Golden file name: test/golden/argv/<name>.args */
  readonly name: string;
  readonly spec: (root: string) => DomainSpec;
  readonly needs?: readonly CaseNeed[];
  /** Context fields beyond argvContext(root). */
  readonly context?: { readonly hostTscKHz?: number };
  /** Files the case uses that are not disks or boot files (raw qemu-launcher options), as qemu-img images. */
  readonly extraImages?: (root: string) => readonly { readonly path: string; readonly format: 'raw' | 'qcow2' }[];
}

function busCase(machine: 'q35' | 'pc', bus: DiskSpec['bus']): ArgvCase {
  return {
    name: `disk-${bus}-${machine}`,
    spec: (root) => ({
      ...baseSpec(root),
      machine: { type: machine, accel: 'auto' },
      disks: [
        disk(root, 'disk0', { bus, serial: 'SYS-0001' }),
        disk(root, 'disk1', { bus, format: 'raw', path: `${root}/images/disk1.img` }),
        ...(bus === 'ide' ? [disk(root, 'disk2', { bus }), cdrom(root, 'cd0', { bus })] : []),
        ...(bus === 'sata' || bus === 'scsi' ? [cdrom(root, 'cd0', { bus })] : []),
      ],
    }),
  };
}

export const ARGV_CASES: readonly ArgvCase[] = [
  { name: 'minimal', spec: (root) => baseSpec(root) },
  {
    name: 'minimal-no-serial',
    spec: (root) => ({ ...baseSpec(root), serial: { mode: 'none' } }),
  },
  {
    name: 'kernel-boot',
    spec: (root) => ({
      ...baseSpec(root),
      cpu: { model: 'max', vcpus: 2, sockets: 1, cores: 2, threads: 1 },
      boot: {
        kind: 'kernel',
        kernel: `${root}/boot/vmlinuz`,
        initrd: `${root}/boot/initrd.gz`,
        // -append is not QemuOpts: the comma must reach the guest as written.
        cmdline: 'console=ttyS0,115200 root=/dev/vda rw panic=-1',
      },
      disks: [disk(root, 'disk0')],
    }),
  },
  {
    name: 'firmware-boot-order',
    spec: (root) => ({
      ...baseSpec(root),
      boot: { kind: 'firmware', firmware: `${root}/firmware/bios.bin`, order: ['cdrom', 'disk', 'network'] },
      disks: [disk(root, 'disk0'), disk(root, 'disk1'), cdrom(root, 'cd0', { bus: 'sata' })],
      nics: [userNic('net0', { model: 'e1000' })],
    }),
  },
  {
    name: 'explicit-boot-index',
    spec: (root) => ({
      ...baseSpec(root),
      boot: { kind: 'firmware', order: ['disk'] },
      disks: [disk(root, 'disk0', { bootIndex: 2 }), disk(root, 'disk1', { bootIndex: 1 }), disk(root, 'disk2')],
    }),
  },
  ...(['q35', 'pc'] as const).flatMap((m) => (['virtio', 'scsi', 'sata', 'ide'] as const).map((b) => busCase(m, b))),
  {
    name: 'sata-and-ide-pc',
    spec: (root) => ({
      ...baseSpec(root),
      machine: { type: 'pc', accel: 'auto' },
      disks: [disk(root, 'disk0', { bus: 'sata' }), disk(root, 'disk1', { bus: 'ide' }), cdrom(root, 'cd0', { bus: 'ide' })],
    }),
  },
  {
    name: 'cdrom',
    spec: (root) => ({
      ...baseSpec(root),
      disks: [cdrom(root, 'cd0', { bus: 'sata' }), cdrom(root, 'cd1', { bus: 'scsi' }), cdrom(root, 'cd2', { bus: 'ide', readonly: false })],
    }),
  },
  {
    name: 'cache-aio',
    spec: (root) => ({
      ...baseSpec(root),
      disks: [
        disk(root, 'none-native', { cache: 'none', aio: 'native' }),
        disk(root, 'directsync-uring', { cache: 'directsync', aio: 'io_uring' }),
        disk(root, 'writethrough-threads', { cache: 'writethrough', aio: 'threads' }),
        disk(root, 'writeback', { cache: 'writeback', bus: 'scsi' }),
        disk(root, 'unsafe', { cache: 'unsafe', bus: 'sata' }),
      ],
    }),
  },
  {
    name: 'readonly',
    spec: (root) => ({
      ...baseSpec(root),
      disks: [disk(root, 'base', { readonly: true }), disk(root, 'base-scsi', { readonly: true, bus: 'scsi', format: 'raw', path: `${root}/images/base.img` })],
    }),
  },
  {
    name: 'iothread-disks',
    spec: (root) => ({
      ...baseSpec(root),
      cpu: { vcpus: 2, sockets: 1, cores: 2, threads: 1 },
      iothreads: ['io0', 'io1'],
      disks: [
        disk(root, 'disk0', { iothread: 'io0', cache: 'none', aio: 'native' }),
        disk(root, 'disk1'),
        disk(root, 'data0', { bus: 'scsi', iothread: 'io1' }),
        disk(root, 'data1', { bus: 'scsi' }),
      ],
    }),
  },
  {
    name: 'nic-user-forwards',
    spec: (root) => ({
      ...baseSpec(root),
      nics: [
        userNic('net0', {
          mac: '52:54:00:12:34:56',
          forwards: [
            { protocol: 'tcp', hostPort: 2222, guestPort: 22 },
            { protocol: 'tcp', hostAddress: '0.0.0.0', hostPort: 8080, guestPort: 80 },
            { protocol: 'udp', hostPort: 5353, guestPort: 53 },
          ],
        }),
        userNic('net1', { model: 'rtl8139' }),
      ],
    }),
  },
  {
    name: 'nic-tap',
    needs: ['tap'],
    spec: (root) => ({
      ...baseSpec(root),
      nics: [
        { kind: 'tap', id: 'net0', model: 'virtio', ifname: 'vmkit-tap0', mac: '52:54:00:ab:cd:ef' },
        { kind: 'tap', id: 'net1', model: 'e1000e', ifname: 'vmkit-tap1' },
      ],
    }),
  },
  {
    name: 'vnc',
    spec: (root) => ({ ...baseSpec(root), graphics: { type: 'vnc', listen: '127.0.0.1', display: 77 } }),
  },
  {
    name: 'hugepages',
    needs: ['hugepages'],
    spec: (root) => ({ ...baseSpec(root), memoryBacking: { hugepages: {}, prealloc: true, locked: false } }),
  },
  {
    name: 'prealloc',
    spec: (root) => ({ ...baseSpec(root), memoryBacking: { prealloc: true, locked: false } }),
  },
  {
    name: 'numa-binding',
    spec: (root) => ({ ...baseSpec(root), numaTune: { mode: 'strict', hostNodes: [0] } }),
  },
  {
    name: 'numa-cells',
    spec: (root) => ({
      ...baseSpec(root),
      cpu: { vcpus: 4, sockets: 2, cores: 2, threads: 1 },
      memoryMiB: 256,
      numaTune: { mode: 'interleave', hostNodes: [0] },
      numaCells: [
        // vCPUs 0 and 2 on cell 0, 1 and 3 on cell 1: two ranges each, so `cpus=` repeats.
        { id: 0, vcpus: [0, 2], memoryMiB: 128, hostNodes: [0], mode: 'preferred' },
        { id: 1, vcpus: [1, 3], memoryMiB: 128 },
      ],
    }),
  },
  {
    name: 'locked-memory',
    spec: (root) => ({ ...baseSpec(root), memoryBacking: { prealloc: false, locked: true } }),
  },
  {
    name: 'microvm',
    context: { hostTscKHz: 2596139 },
    spec: (root) => ({
      ...baseSpec(root),
      machine: { type: 'microvm', accel: 'auto' },
      boot: { kind: 'kernel', kernel: `${root}/boot/vmlinux`, initrd: `${root}/boot/initrd.gz`, cmdline: 'console=ttyS0 panic=-1' },
      disks: [disk(root, 'disk0', { format: 'raw', path: `${root}/images/disk0.img` }), disk(root, 'data0', { bus: 'scsi' })],
      nics: [userNic('net0', { forwards: [{ protocol: 'tcp', hostPort: 2222, guestPort: 22 }] })],
    }),
  },
  {
    name: 'qemu-args-last',
    spec: (root) => ({
      ...baseSpec(root),
      disks: [disk(root, 'disk0')],
      qemuArgs: ['-device', 'virtio-rng-pci,id=rng0', '-global', 'virtio-blk-pci.num-queues=1'],
    }),
  },
  {
    name: 'qemu-launcher-raw',
    spec: (root) => ({
      ...baseSpec(root),
      name: 'my-vm',
      serial: { mode: 'console' },
      source: { format: 'qemu-launcher', file: `${root}/my-vm.yaml` },
      rawOptions: [
        { name: 'name', value: 'my vm' },
        { name: 'machine', value: 'q35,accel=tcg' },
        { name: 'm', value: '128' },
        { name: 'smp', value: '2' },
        { name: 'drive', value: `file=${root}/images/launcher.qcow2,format=qcow2,if=virtio` },
        { name: 'nographic' },
      ],
      qemuArgs: ['-device', 'virtio-rng-pci'],
    }),
    extraImages: (root) => [{ path: `${root}/images/launcher.qcow2`, format: 'qcow2' }],
  },
  // ---- domain-level settings: features, clock, CPU flags and hotplug, flash firmware ----
  {
    name: 'platform-clock-features',
    spec: (root) => ({
      ...baseSpec(root),
      cpu: { model: 'qemu64', vcpus: 1, sockets: 1, cores: 1, threads: 1, features: [{ name: 'popcnt', enabled: true }, { name: 'sse4.2', enabled: true }, { name: 'svm', enabled: false }] },
      features: { acpi: false },
      clock: { offset: 'localtime', rtcTickPolicy: 'catchup', pitTickPolicy: 'delay', hpet: false, kvmclock: false },
      title: 'not on the command line',
      lifecycle: { onPoweroff: 'preserve', onReboot: 'destroy', onCrash: 'restart' },
    }),
  },
  {
    name: 'clock-variable',
    spec: (root) => ({ ...baseSpec(root), clock: { offset: 'variable', adjustment: -90061 } }),
  },
  {
    name: 'cpu-hotplug',
    spec: (root) => ({ ...baseSpec(root), cpu: { vcpus: 2, maxVcpus: 4, sockets: 2, cores: 2, threads: 1 } }),
  },
  {
    name: 'pflash',
    spec: (root) => ({
      ...baseSpec(root),
      boot: { kind: 'firmware', pflash: { code: `${root}/firmware/CODE.fd`, readonly: true, vars: `${root}/nvram/a,b VARS.fd`, varsTemplate: `${root}/firmware/VARS.fd` }, order: ['disk'] },
      disks: [disk(root, 'disk0')],
    }),
    extraImages: (root) => [
      { path: `${root}/firmware/CODE.fd`, format: 'raw' },
      { path: `${root}/nvram/a,b VARS.fd`, format: 'raw' },
    ],
  },
  {
    name: 'pflash-writable-code',
    spec: (root) => ({ ...baseSpec(root), machine: { type: 'pc', accel: 'auto' }, boot: { kind: 'firmware', pflash: { code: `${root}/firmware/OVMF.fd`, readonly: false }, order: [] } }),
    extraImages: (root) => [{ path: `${root}/firmware/OVMF.fd`, format: 'raw' }],
  },
  // ---- guest addresses and controllers ----
  {
    // Devices on root ports and behind a PCIe-to-PCI bridge; the unaddressed ones (second disk, balloon) take
    // free root slots, never one a later device names.
    name: 'pci-addresses-q35',
    spec: (root) => ({
      ...baseSpec(root),
      controllers: [
        { type: 'pci', index: 1, model: 'pcie-root-port', chassis: 1, port: 0x10, address: pci(0, 2, 0, true) },
        { type: 'pci', index: 2, model: 'pcie-root-port', address: pci(0, 2, 1) },
        { type: 'pci', index: 3, model: 'pcie-to-pci-bridge', address: pci(2, 0) },
        { type: 'pci', index: 4, model: 'dmi-to-pci-bridge', address: pci(0, 0x1e) },
        { type: 'pci', index: 5, model: 'pci-bridge', chassis: 5, address: pci(4, 0) },
        { type: 'usb', index: 0, model: 'qemu-xhci', ports: 8, address: pci(0, 4) },
        { type: 'virtio-serial', index: 0, address: pci(3, 2) },
      ],
      disks: [disk(root, 'disk0', { address: pci(1, 0) }), disk(root, 'disk1'), disk(root, 'cd0', { path: `${root}/images/cd0.iso`, format: 'raw', bus: 'sata', media: 'cdrom', readonly: true, address: { type: 'drive', controller: 0, bus: 0, target: 0, unit: 3 } })],
      nics: [userNic('net0', { model: 'e1000', address: pci(3, 1) }), userNic('net1', { address: pci(5, 3) })],
      balloon: { autodeflate: false, freePageReporting: false },
      rngs: [{ backend: 'builtin', address: pci(0, 3) }],
    }),
  },
  {
    // pc: the PIIX3's multifunction slot 1 takes the USB controller at function 2, a bridge, an added AHCI with
    // its ports, IDE and SCSI drive addresses on two virtio-scsi controllers.
    name: 'pci-addresses-pc',
    spec: (root) => ({
      ...baseSpec(root),
      machine: { type: 'pc', accel: 'auto' },
      controllers: [
        { type: 'pci', index: 1, model: 'pci-bridge', address: pci(0, 5) },
        { type: 'usb', index: 0, model: 'piix3-uhci', address: pci(0, 1, 2) },
        { type: 'sata', index: 0, address: pci(1, 7) },
        { type: 'scsi', index: 1, model: 'virtio-scsi', address: pci(1, 8) },
      ],
      disks: [
        disk(root, 'ide1', { bus: 'ide', address: { type: 'drive', controller: 0, bus: 1, target: 0, unit: 1 } }),
        disk(root, 'ide0', { bus: 'ide' }),
        disk(root, 'sata2', { bus: 'sata', address: { type: 'drive', controller: 0, bus: 0, target: 0, unit: 2 } }),
        disk(root, 'sata0', { bus: 'sata' }),
        disk(root, 'scsi-a', { bus: 'scsi', address: { type: 'drive', controller: 1, bus: 0, target: 3, unit: 1 } }),
        disk(root, 'scsi-b', { bus: 'scsi' }),
      ],
      graphics: { type: 'vnc', listen: '127.0.0.1', display: 78, videoAddress: pci(0, 2) },
    }),
  },
  {
    // An EHCI controller with its three UHCI companions in one multifunction slot, as libvirt's ich9-ehci1 set.
    name: 'usb-ich9-companions',
    spec: (root) => ({
      ...baseSpec(root),
      controllers: [
        { type: 'usb', index: 0, model: 'ich9-ehci1', address: pci(0, 0x1d, 7) },
        { type: 'usb', index: 0, model: 'ich9-uhci1', masterStartPort: 0, address: pci(0, 0x1d, 0, true) },
        { type: 'usb', index: 0, model: 'ich9-uhci2', masterStartPort: 2, address: pci(0, 0x1d, 1) },
        { type: 'usb', index: 0, model: 'ich9-uhci3', masterStartPort: 4, address: pci(0, 0x1d, 2) },
      ],
    }),
  },
  {
    name: 'hostile-disk-path',
    spec: (root) => ({
      ...baseSpec(root),
      disks: [
        disk(root, 'disk0', { format: 'raw', path: `${root}/images/a,file=/etc/shadow` }),
        disk(root, 'disk1', { format: 'raw', path: `${root}/images/we ird=" 'q',,x\nline.img`, serial: 'a,b=c' }),
      ],
    }),
  },
];
