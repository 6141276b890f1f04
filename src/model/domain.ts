/**
 * DomainSpec: the one validated, resolved, read-only description of a VM that every definition format
 * (native YAML, qemu-launcher YAML, libvirt XML) is parsed into. Plain data, no I/O.
 * Paths inside are absolute (resolved against the definition file's directory).
 */

export type Accel = 'kvm' | 'tcg' | 'auto';
export type DiskFormat = 'raw' | 'qcow2' | 'qcow' | 'vmdk' | 'vdi' | 'vhdx' | 'vpc' | 'qed' | 'luks';
export type DiskBus = 'virtio' | 'scsi' | 'sata' | 'ide';
export type DiskCache = 'none' | 'writeback' | 'writethrough' | 'directsync' | 'unsafe';
export type DiskAio = 'threads' | 'native' | 'io_uring';
export type NicModel = 'virtio' | 'e1000' | 'e1000e' | 'rtl8139';
export type SchedPolicy = 'other' | 'batch' | 'idle' | 'fifo' | 'rr' | 'deadline';
export type SourceFormat = 'vmkit-yaml' | 'qemu-launcher' | 'libvirt-xml';

import type { ClockSpec, CpuFeatureSpec, FeaturesSpec, LifecycleSpec, PflashSpec } from './platform.js';
export type { ClockSpec, CpuFeatureSpec, FeaturesSpec, LifecycleAction, LifecycleSpec, PflashSpec, TickPolicy } from './platform.js';
export { DEFAULT_LIFECYCLE } from './platform.js';

export interface MachineSpec {
  /** QEMU machine type, e.g. `q35`, `pc`, `microvm`. */
  readonly type: string;
  readonly accel: Accel;
}

export interface CpuSpec {
  /** QEMU CPU model (`host`, `max`, `qemu64`, ...); absent: QEMU's default for the machine. */
  readonly model?: string;
  readonly vcpus: number;
  readonly sockets: number;
  readonly cores: number;
  readonly threads: number;
  /** vCPUs QEMU can have (`-smp maxcpus=`), more than `vcpus` when some start unplugged; the topology covers these. */
  readonly maxVcpus?: number;
  /** Feature flags on top of the model, in order; needs `model`. */
  readonly features?: readonly CpuFeatureSpec[];
}

export interface KernelBoot {
  readonly kind: 'kernel';
  readonly kernel: string;
  readonly initrd?: string;
  readonly cmdline?: string;
}

export interface FirmwareBoot {
  readonly kind: 'firmware';
  /** Firmware image (`-bios`); absent: QEMU's default (SeaBIOS). */
  readonly firmware?: string;
  /** Firmware in emulated flash (`-machine pflash0=,pflash1=`); never together with `firmware`. */
  readonly pflash?: PflashSpec;
  readonly order: readonly ('disk' | 'cdrom' | 'network')[];
}

export type BootSpec = KernelBoot | FirmwareBoot;

export interface DiskSpec {
  /** Stable id used for QEMU node names (`disk0`, ...). */
  readonly id: string;
  readonly path: string;
  readonly format: DiskFormat;
  readonly bus: DiskBus;
  readonly media: 'disk' | 'cdrom';
  readonly cache?: DiskCache;
  readonly aio?: DiskAio;
  readonly readonly: boolean;
  /** iothread id: a virtio disk runs in it; scsi disks share one, the virtio-scsi controller's. */
  readonly iothread?: string;
  /** Boot priority (lower first), firmware boot only. */
  readonly bootIndex?: number;
  readonly serial?: string;
  /** Where the disk sits: a PCI slot (virtio) or a place on its controller (scsi, sata, ide); absent: vmkit places it. */
  readonly address?: PciAddressSpec | DriveAddressSpec;
  /**
   * The disk is a volume of the connection's root (`volumes/NAME.FORMAT`): `path` is '' and `format` a
   * placeholder until the driver resolves them at start (src/driver/storage-sources.ts); `format`, when the
   * definition gave one, must be the volume's.
   */
  readonly volume?: DiskVolumeSpec;
  /**
   * The disk is a qcow2 overlay on a cached template, made in the domain's directory at its first start and
   * kept: `path` is '' until the driver resolves it; `format` is qcow2.
   */
  readonly image?: DiskImageSpec;
}

export interface DiskVolumeSpec {
  readonly name: string;
  /** The format the definition gave (checked against the volume at start). */
  readonly format?: DiskFormat;
}

export interface DiskImageSpec {
  /** Template os-version (or alias resolved when it was cached). */
  readonly name: string;
  readonly arch?: string;
  /** Virtual size in bytes; default and minimum: the template's. */
  readonly sizeBytes?: number;
}

export interface PortForward {
  readonly protocol: 'tcp' | 'udp';
  readonly hostAddress?: string;
  readonly hostPort: number;
  readonly guestPort: number;
}

/** What every NIC kind may carry besides its backend. */
export interface NicCommon {
  readonly id: string;
  readonly mac?: string;
  /** Boot priority of this NIC (`bootindex=`), firmware boot only; shares the numbering with disks' `bootIndex`. */
  readonly bootIndex?: number;
  /** Guest MTU advertised by virtio-net (`host_mtu=`), virtio only. */
  readonly mtu?: number;
  /** The NIC's guest PCI address; absent: vmkit places it. */
  readonly address?: PciAddressSpec;
}

export interface UserNic extends NicCommon {
  readonly kind: 'user';
  readonly model: NicModel;
  readonly forwards: readonly PortForward[];
}

export interface TapNic extends NicCommon {
  readonly kind: 'tap';
  readonly model: NicModel;
  readonly ifname: string;
}

/** A tap device that QEMU's setuid bridge helper creates and adds to an existing host bridge (`-netdev bridge`). */
export interface BridgeNic extends NicCommon {
  readonly kind: 'bridge';
  readonly model: NicModel;
  /** The helper is QEMU's built-in default (Debian: /usr/lib/qemu/qemu-bridge-helper, allowed bridges in /etc/qemu/bridge.conf). */
  readonly bridge: string;
}

/**
 * A NIC on a libvirt virtual network (`<interface type='network'>`): libvirtd runs the network (its bridge,
 * DHCP and NAT); vmkit looks up the network's bridge when the domain starts and connects the NIC to it the way
 * a bridge NIC is connected (QEMU's bridge helper).
 */
export interface NetworkNic extends NicCommon {
  readonly kind: 'network';
  readonly model: NicModel;
  /** The libvirt network's name, e.g. `default`. */
  readonly network: string;
}

/**
 * An SR-IOV virtual function (or any NIC) assigned to the guest with vfio-pci. QEMU cannot set its MAC
 * (vfio-pci has no `mac`): with `mac`, vmkit sets it on the VF through its PF before QEMU starts (as libvirt
 * does), which needs `managed` (src/process/managed-hostdevs.ts).
 */
export interface HostdevNic extends NicCommon {
  readonly kind: 'hostdev';
  /** Always `vfio-pci`: the guest sees the real device. */
  readonly model: 'vfio-pci';
  /** Host PCI address `dddd:bb:ss.f`. */
  readonly host: string;
  /** vmkit binds the device to vfio-pci before QEMU starts and gives it back afterwards (libvirt `managed='yes'`). */
  readonly managed?: boolean;
}

export type NicSpec = UserNic | TapNic | BridgeNic | NetworkNic | HostdevNic;

/**
 * The guest's serial port (ttyS0) and where its other end goes:
 * - `console`: vmkit routes it (terminal with `vmkit run --console`, the run log, `vmkit console`, console events);
 * - `none`: no serial port;
 * - `file`: QEMU writes it to a file (appended to or truncated); no input, and no vmkit console;
 * - `unix`: a unix socket QEMU listens on (`server`) or connects to; no vmkit console.
 */
export type SerialSpec =
  | { readonly mode: 'console' }
  | { readonly mode: 'none' }
  | { readonly mode: 'file'; readonly path: string; readonly append: boolean }
  | { readonly mode: 'unix'; readonly path: string; readonly server: boolean };

export type GraphicsSpec =
  | { readonly type: 'none' }
  /**
   * `display` absent: QEMU picks the first free display from 0 (`to=99`); `query-vnc` tells which.
   * `videoAddress`: the VGA card's guest PCI address (absent: vmkit places it).
   */
  | { readonly type: 'vnc'; readonly listen: string; readonly display?: number; readonly videoAddress?: PciAddressSpec };

/**
 * `virtio-mem-pci`: memory the guest can be given and take back at run time, in blocks, up to `sizeMiB`
 * on top of `memoryMiB` (QEMU `-m memoryMiB,maxmem=memoryMiB+sizeMiB`). `requestedMiB` is what the guest is
 * asked to plug at start; `vmkit setmem` changes it while the guest runs.
 */
export interface VirtioMemSpec {
  readonly sizeMiB: number;
  readonly requestedMiB: number;
  /** Plug granularity (QEMU `block-size`); absent: QEMU's default (2 MiB on x86, or the backend's page size). */
  readonly blockMiB?: number;
}

/** `virtio-balloon`: lets the host reclaim guest memory and read guest memory statistics. */
export interface BalloonSpec {
  /** Seconds between guest memory statistics updates (`guest-stats-polling-interval`); absent: off. */
  readonly statsPeriod?: number;
  /** The guest gives pages back when it runs out of memory (`deflate-on-oom`). */
  readonly autodeflate: boolean;
  /** The guest reports free pages to the host (`free-page-reporting`). */
  readonly freePageReporting: boolean;
  /** Guest PCI address; absent: vmkit places it. */
  readonly address?: PciAddressSpec;
}

/** A virtio RNG fed from a host file (`rng-random`) or from QEMU's own generator (`rng-builtin`). */
export type RngSpec =
  | { readonly backend: 'random'; readonly source: string; readonly address?: PciAddressSpec }
  | { readonly backend: 'builtin'; readonly address?: PciAddressSpec };

/**
 * A host PCI device assigned to the guest with vfio-pci: already bound to vfio-pci on the host, or, with
 * `managed`, bound by vmkit before QEMU starts and given back to its driver after QEMU exits.
 */
export interface HostdevSpec {
  /** Host PCI address `dddd:bb:ss.f`. */
  readonly host: string;
  /** Boot priority (`bootindex=`), firmware boot only. */
  readonly bootIndex?: number;
  /** vmkit rebinds the device to vfio-pci around the run (libvirt `managed='yes'`). */
  readonly managed?: boolean;
  /** Where the guest sees it; absent: vmkit places it. */
  readonly address?: PciAddressSpec;
}

// ---- guest device addresses and controllers (libvirt <address>, <controller>) ----

/**
 * A guest PCI address (libvirt `<address type='pci'>`). `bus` is the index of the PCI controller whose bus
 * it is (0: the root bus, `pcie.0` on q35, `pci.0` on pc), as in libvirt.
 */
export interface PciAddressSpec {
  readonly type: 'pci';
  readonly domain: number;
  readonly bus: number;
  readonly slot: number;
  readonly function: number;
  /** The slot holds several functions (set on function 0). */
  readonly multifunction?: boolean;
}

/**
 * A disk's place on its controller (libvirt `<address type='drive'>`): `controller` is the index of the
 * controller of the disk's bus type; sata: `unit` is the AHCI port; ide: `bus` 0-1, `unit` 0-1; scsi:
 * `bus` is the channel, `target` the SCSI id, `unit` the LUN.
 */
export interface DriveAddressSpec {
  readonly type: 'drive';
  readonly controller: number;
  readonly bus: number;
  readonly target: number;
  readonly unit: number;
}

/** A place on a USB controller's bus (libvirt `<address type='usb' bus port>`): `bus` is the controller index, `port` like `1` or `1.2` (behind a hub). */
export interface UsbAddressSpec {
  readonly type: 'usb';
  readonly bus: number;
  readonly port: string;
}

/** A USB input device (the PS/2 mouse and keyboard every PC has are implicit and never listed). */
export interface InputSpec {
  readonly type: 'tablet' | 'mouse' | 'keyboard';
  readonly bus: 'usb';
  readonly address?: UsbAddressSpec;
}

export type PciControllerModel = 'pcie-root-port' | 'pci-bridge' | 'dmi-to-pci-bridge' | 'pcie-to-pci-bridge';
export type UsbControllerModel = 'qemu-xhci' | 'nec-xhci' | 'piix3-uhci' | 'piix4-uhci' | 'ich9-ehci1' | 'ich9-uhci1' | 'ich9-uhci2' | 'ich9-uhci3';

/**
 * A controller that becomes a QEMU device. The machine's own buses (the PCI root, q35's SATA at 00:1f.2, pc's
 * IDE) are never listed: they exist without one.
 */
export type ControllerSpec =
  | {
      readonly type: 'pci';
      readonly index: number;
      readonly model: PciControllerModel;
      /** pcie-root-port: `chassis=` and `port=`; pci-bridge: `chassis_nr=` (chassis). Default: the index. */
      readonly chassis?: number;
      readonly port?: number;
      readonly address?: PciAddressSpec;
    }
  | {
      readonly type: 'usb';
      readonly index: number;
      readonly model: UsbControllerModel;
      /** xhci: USB 2 and 3 ports each (`p2=`, `p3=`). */
      readonly ports?: number;
      /** ich9-uhci companions: the first port of the EHCI controller (same index) they serve. */
      readonly masterStartPort?: number;
      readonly address?: PciAddressSpec;
    }
  | { readonly type: 'scsi'; readonly index: number; readonly model: 'virtio-scsi'; readonly address?: PciAddressSpec }
  | { readonly type: 'sata'; readonly index: number; readonly address?: PciAddressSpec }
  | { readonly type: 'virtio-serial'; readonly index: number; readonly address?: PciAddressSpec };

/** A host CPU set, as a sorted list of CPU numbers. */
export type CpuSet = readonly number[];

export interface ThreadSched {
  readonly policy: SchedPolicy;
  readonly priority?: number;
}

export interface TuningSpec {
  /** `pinning: auto`: vmkit computes vCPU pins from the host topology at start (explicit pins must be empty). */
  readonly autoPin: boolean;
  /** vCPU index -> host CPUs, sorted by vcpu. */
  readonly vcpuPins: readonly { readonly vcpu: number; readonly cpus: CpuSet }[];
  readonly emulatorPin?: CpuSet;
  /** iothread id -> host CPUs. */
  readonly iothreadPins: readonly { readonly iothread: string; readonly cpus: CpuSet }[];
  readonly vcpuSched?: ThreadSched;
  readonly emulatorSched?: ThreadSched;
  readonly iothreadSched?: ThreadSched;
  /** `unlimited`, or bytes. */
  readonly rlimitMemlock?: 'unlimited' | number;
  /** Opt-in cpuset cgroup isolation of the pinned CPUs (cgroup v1 or v2). */
  readonly isolate: boolean;
  /**
   * `isolate` was not asked for but implied by the format (qemu-launcher isolates whatever vcpu_pinning
   * pins). Where isolation would leave the host no CPU, the pins are applied without it, with a warning;
   * isolation asked for (`isolate: true`) is an error there.
   */
  readonly isolateImplied?: boolean;
  /** Print the tuning plan (qemu-launcher `debug`). */
  readonly debug: boolean;
}

export type NumaMode = 'strict' | 'preferred' | 'interleave';

export interface MemoryBackingSpec {
  /** Back guest RAM with hugetlbfs pages; `pageSizeKiB` absent: the host's default size. */
  readonly hugepages?: { readonly pageSizeKiB?: number; readonly path?: string };
  /** Allocate all guest RAM at start. */
  readonly prealloc: boolean;
  /** Lock guest RAM in host memory (mlock). */
  readonly locked: boolean;
}

/** Host NUMA binding of guest memory. */
export interface NumaTuneSpec {
  readonly mode: NumaMode;
  readonly hostNodes: CpuSet;
}

/** One guest NUMA cell. */
export interface NumaCellSpec {
  readonly id: number;
  readonly vcpus: CpuSet;
  readonly memoryMiB: number;
  /** Host nodes this cell's memory binds to (overrides `numaTune` for the cell). */
  readonly hostNodes?: CpuSet;
  readonly mode?: NumaMode;
}

export interface ProcessSpec {
  /** User/group QEMU runs as (name or numeric id). */
  readonly user?: string | number;
  readonly group?: string | number;
  /** Extra environment for QEMU. */
  readonly env: Readonly<Record<string, string>>;
  /** Start QEMU with only `env` (plus PATH) instead of inheriting vmkit's environment. */
  readonly clearEnv: boolean;
}

/** One QEMU option from a qemu-launcher `qemu:` list: `-name value` or a flag with no value. */
export interface RawOption {
  readonly name: string;
  readonly value?: string;
}

export interface DomainSpec {
  readonly name: string;
  readonly uuid?: string;
  // ---- domain-level settings (src/model/platform.ts); absent: the defaults ----
  /** One-line title (libvirt `<title>`); no effect on QEMU. */
  readonly title?: string;
  /** Free text (libvirt `<description>`); no effect on QEMU. */
  readonly description?: string;
  /** Lifecycle policies the definition asks for; absent: the daemon's record decides (default destroy/restart/destroy). */
  readonly lifecycle?: LifecycleSpec;
  /** Platform switches; absent: ACPI on. */
  readonly features?: FeaturesSpec;
  /** RTC base and timers; absent: UTC and QEMU's defaults. */
  readonly clock?: ClockSpec;
  /** Balloon target set before the guest runs (QMP `balloon`), below `memoryMiB`; needs `balloon`. Absent: all of it. */
  readonly currentMemoryMiB?: number;
  /** QEMU binary: a name looked up on PATH, or an absolute path. */
  readonly emulator: string;
  readonly machine: MachineSpec;
  readonly cpu: CpuSpec;
  readonly memoryMiB: number;
  readonly memoryBacking: MemoryBackingSpec;
  /** Hot-pluggable memory through virtio-mem; absent: none. */
  readonly virtioMem?: VirtioMemSpec;
  readonly numaTune?: NumaTuneSpec;
  readonly numaCells: readonly NumaCellSpec[];
  readonly boot?: BootSpec;
  readonly disks: readonly DiskSpec[];
  readonly nics: readonly NicSpec[];
  readonly serial: SerialSpec;
  readonly graphics: GraphicsSpec;
  // ---- devices with no host-side setup by vmkit (absent or empty: none) ----
  readonly balloon?: BalloonSpec;
  readonly rngs?: readonly RngSpec[];
  readonly hostdevs?: readonly HostdevSpec[];
  /** Controllers that become QEMU devices (PCIe root ports, PCI bridges, USB, virtio-serial, ...); absent: none. */
  readonly controllers?: readonly ControllerSpec[];
  /** USB input devices (`usb-tablet`, `usb-mouse`, `usb-kbd`), on a USB controller; absent: none. */
  readonly inputs?: readonly InputSpec[];
  /** iothread ids, each becomes `-object iothread,id=<id>`. */
  readonly iothreads: readonly string[];
  /**
   * qemu-launcher definitions: the `qemu:` options, passed through in order instead of the generated
   * hardware options (vmkit still adds its own control options). Absent for other formats.
   */
  readonly rawOptions?: readonly RawOption[];
  /** Escape hatch: extra QEMU arguments appended last; they win over generated ones. */
  readonly qemuArgs: readonly string[];
  readonly tuning: TuningSpec;
  readonly process: ProcessSpec;
  readonly source: { readonly format: SourceFormat; readonly file?: string };
}

export const DEFAULT_MEMORY_BACKING: MemoryBackingSpec = Object.freeze({ prealloc: false, locked: false });

export const EMPTY_TUNING: TuningSpec = Object.freeze({
  autoPin: false,
  vcpuPins: [],
  iothreadPins: [],
  isolate: false,
  debug: false,
});

/** Names must be safe as file names and QEMU ids: no path separators, no leading dot. */
export const DOMAIN_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/;

/** True when vmkit routes the serial console (native specs with `serial: console`; qemu-launcher files route their own). */
export function routesConsole(spec: Pick<DomainSpec, 'rawOptions' | 'serial'>): boolean {
  return spec.rawOptions === undefined && spec.serial.mode === 'console';
}
