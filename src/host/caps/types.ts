/**
 * QemuCaps: what one QEMU binary offers, as plain JSON-able data. Produced by one probe (probe.ts), cached
 * on disk (cache-file.ts) and checked against definitions (validate-spec.ts).
 */

/**
 * Version of the QemuCaps layout and of how it is probed. Part of the cache key: raising it makes every
 * cached entry stale, so bump it whenever a field is added, removed or computed differently.
 */
export const CAPS_FORMAT_VERSION = 1;

/**
 * The bus a device type plugs into, from the QOM interfaces it implements (`pci-device`, `virtio-device`,
 * ...). `other` covers buses vmkit does not name (HDA codecs, virtio-serial ports, I2C, ...).
 */
export type DeviceBus = 'pci' | 'virtio' | 'scsi' | 'ide' | 'usb' | 'isa' | 'sysbus' | 'cpu' | 'other';

/** The QOM type each bus is read from, in priority order (a PCI device that is also a sysbus device is `pci`). */
export const BUS_INTERFACES: readonly (readonly [Exclude<DeviceBus, 'other'>, string])[] = [
  ['pci', 'pci-device'],
  ['virtio', 'virtio-device'],
  ['scsi', 'scsi-device'],
  ['ide', 'ide-device'],
  ['usb', 'usb-device'],
  ['isa', 'isa-device'],
  ['sysbus', 'sys-bus-device'],
  ['cpu', 'cpu'],
];

export interface MachineCaps {
  /** Versioned name, e.g. `pc-q35-7.2`. */
  readonly name: string;
  /** Short name that stands for it, e.g. `q35`. */
  readonly alias?: string;
  /** QEMU's default machine (used when no `-machine` is given). */
  readonly isDefault: boolean;
  readonly deprecated: boolean;
  readonly cpuMax: number;
  readonly defaultCpuType?: string;
}

export interface CpuModelCaps {
  readonly name: string;
  /** The versioned model this name stands for (`Skylake-Client` -> `Skylake-Client-v1`). */
  readonly aliasOf?: string;
  /**
   * False when the probe's accelerator cannot give a guest every feature of the model (QEMU then drops the
   * missing features with a warning). Relative to `QemuCaps.probeAccel`.
   */
  readonly usable: boolean;
  readonly deprecated: boolean;
}

export interface DeviceCaps {
  /** The `-device` driver name, e.g. `virtio-blk-pci`. */
  readonly name: string;
  readonly bus: DeviceBus;
}

export interface QemuVersion {
  readonly major: number;
  readonly minor: number;
  readonly micro: number;
  /** Distribution package string, e.g. `Debian 1:7.2+dfsg-7+deb12u18`. */
  readonly package: string;
}

export interface QemuCaps {
  readonly formatVersion: number;
  /** Absolute path of the probed binary. */
  readonly binary: string;
  readonly version: QemuVersion;
  /** Target architecture (`query-target`), e.g. `x86_64`. */
  readonly arch: string;
  /** `query-kvm`: `present` = KVM support built in, `enabled` = the probe could use /dev/kvm. */
  readonly kvm: { readonly present: boolean; readonly enabled: boolean };
  /** Accelerators built into the binary (QOM `*-accel` types): e.g. `kvm`, `tcg`, `qtest`. */
  readonly accels: readonly string[];
  /**
   * The accelerator the probe ran with (`-machine none,accel=kvm:tcg:qtest`): `kvm`, `tcg`, or `qtest` when
   * neither could start (a KVM-only binary without a usable /dev/kvm: no guest can run; see guestAccels()).
   * CpuModelCaps.usable refers to it.
   */
  readonly probeAccel: string;
  readonly machines: readonly MachineCaps[];
  /** Name of the default machine, when the binary has one. */
  readonly defaultMachine?: string;
  readonly cpuModels: readonly CpuModelCaps[];
  /** Every non-abstract device type (`-device` drivers), sorted by name. */
  readonly devices: readonly DeviceCaps[];
  /** Non-abstract user-creatable QOM types (`-object` types: `iothread`, `memory-backend-file`, ...). */
  readonly objects: readonly string[];
  readonly chardevBackends: readonly string[];
  /** `-netdev` types, from the `netdev_add` argument schema (QEMU 7.2 has no query for them). */
  readonly netdevBackends: readonly string[];
  /** When and how long the probe took. */
  readonly probe: { readonly at: string; readonly ms: number };
}

/** `7.2.22` */
export function versionText(v: QemuVersion): string {
  return `${v.major}.${v.minor}.${v.micro}`;
}
