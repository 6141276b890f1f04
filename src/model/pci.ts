/**
 * Guest PCI topology facts shared by the resolvers (which check addresses) and the argv builder (which
 * writes `bus=`/`addr=`): the slots each machine occupies itself, the QEMU id of each bus, the slots a bus
 * of each controller model offers, and the native spelling of addresses (`pci:0000:00:03.0`,
 * `drive:0:0:0:1`). Checked against QEMU 7.2 with `query-pci` (test/qemu/addresses.test.ts). Pure.
 */
import type { DriveAddressSpec, PciAddressSpec, PciControllerModel, UsbAddressSpec } from './domain.js';

/** Which PCI root a machine has: q35's PCIe root complex, pc's i440fx PCI root, or none (microvm, others). */
export type PciRoot = 'q35' | 'pc' | 'none';

export function pciRoot(machineType: string): PciRoot {
  if (machineType === 'q35' || machineType.startsWith('pc-q35-')) return 'q35';
  if (machineType === 'pc' || machineType.startsWith('pc-i440fx-')) return 'pc';
  return 'none';
}

/** Functions on the root bus that the machine has without any option (with `-nodefaults`), and what they are. */
export const BUILTIN_FUNCTIONS: Readonly<Record<Exclude<PciRoot, 'none'>, readonly { readonly slot: number; readonly fn: number; readonly what: string }[]>> = {
  q35: [
    { slot: 0, fn: 0, what: 'the host bridge' },
    { slot: 0x1f, fn: 0, what: 'the ICH9 LPC bridge' },
    { slot: 0x1f, fn: 2, what: "the ICH9 SATA controller (libvirt's <controller type='sata' index='0'>)" },
    { slot: 0x1f, fn: 3, what: 'the ICH9 SMBus controller' },
  ],
  pc: [
    { slot: 0, fn: 0, what: 'the host bridge' },
    { slot: 1, fn: 0, what: 'the PIIX3 ISA bridge' },
    { slot: 1, fn: 1, what: "the PIIX3 IDE controller (libvirt's <controller type='ide' index='0'>)" },
    { slot: 1, fn: 3, what: 'the PIIX4 power management controller' },
  ],
};

/** The built-in controllers' fixed addresses (libvirt lists them; they produce no QEMU option). */
export const Q35_SATA_SLOT = { slot: 0x1f, fn: 2 } as const;
export const PC_IDE_SLOT = { slot: 1, fn: 1 } as const;

/** The QEMU id of the PCI bus of controller `index` (libvirt's names: `pcie.0`/`pci.0` for the root, else `pci.<index>`). */
export function pciBusId(root: PciRoot, index: number): string {
  if (index === 0) return root === 'q35' ? 'pcie.0' : 'pci.0';
  return `pci.${index}`;
}

/** The slots a bus offers: a root port has one slot (0); bridges 1-31 (slot 0 is the bridge's own); the roots 1-31. */
export function busSlots(model: 'root' | PciControllerModel): { readonly min: number; readonly max: number } {
  switch (model) {
    case 'pcie-root-port':
      return { min: 0, max: 0 };
    case 'dmi-to-pci-bridge':
      return { min: 0, max: 31 };
    default:
      return { min: 1, max: 31 };
  }
}

/** QEMU's `addr=` for a slot and function, as libvirt writes it: `0x3`, `0x2.0x1`. */
export function qemuAddr(a: PciAddressSpec): string {
  return a.function === 0 ? `0x${a.slot.toString(16)}` : `0x${a.slot.toString(16)}.0x${a.function.toString(16)}`;
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** `pci:0000:07:00.0` (`,multifunction=on` when set): the native spelling. */
export function formatPciAddress(a: PciAddressSpec): string {
  return `pci:${hex(a.domain, 4)}:${hex(a.bus, 2)}:${hex(a.slot, 2)}.${a.function}${a.multifunction === true ? ',multifunction=on' : ''}`;
}

/** `drive:CONTROLLER:BUS:TARGET:UNIT`, e.g. `drive:0:1:0:0`. */
export function formatDriveAddress(a: DriveAddressSpec): string {
  return `drive:${a.controller}:${a.bus}:${a.target}:${a.unit}`;
}

export const USB_ADDRESS_SOURCE = '^usb:[0-9]{1,3}:[1-9][0-9]?(\\.[1-9][0-9]?){0,4}$';

/** `usb:BUS:PORT`, e.g. `usb:0:1`. */
export function formatUsbAddress(a: UsbAddressSpec): string {
  return `usb:${a.bus}:${a.port}`;
}

export function parseUsbAddress(text: string): UsbAddressSpec | undefined {
  const m = /^usb:(\d+):(\d+(?:\.\d+)*)$/.exec(text);
  return m === null ? undefined : { type: 'usb', bus: Number(m[1]), port: m[2] as string };
}

export function formatAddress(a: PciAddressSpec | DriveAddressSpec): string {
  return a.type === 'pci' ? formatPciAddress(a) : formatDriveAddress(a);
}

/** Native address patterns (JSON Schema `pattern`s): the domain is optional, hex digits in either case. */
export const PCI_ADDRESS_SOURCE = '^pci:([0-9A-Fa-f]{4}:)?[0-9A-Fa-f]{2}:[0-1]?[0-9A-Fa-f]\\.[0-7](,multifunction=(on|off))?$';
export const DRIVE_ADDRESS_SOURCE = '^drive:[0-9]{1,5}:[0-9]{1,5}:[0-9]{1,5}:[0-9]{1,5}$';

/** Parses a native address already checked against the patterns above; undefined when it does not match. */
export function parseAddress(text: string): PciAddressSpec | DriveAddressSpec | undefined {
  const p = /^pci:(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-9a-f]{1,2})\.([0-7])(?:,multifunction=(on|off))?$/i.exec(text);
  if (p !== null) {
    const slot = parseInt(p[3] as string, 16);
    if (slot > 0x1f) return undefined;
    return {
      type: 'pci',
      domain: parseInt(p[1] ?? '0', 16),
      bus: parseInt(p[2] as string, 16),
      slot,
      function: Number(p[4]),
      ...(p[5] === 'on' ? { multifunction: true } : {}),
    };
  }
  const d = /^drive:(\d+):(\d+):(\d+):(\d+)$/.exec(text);
  if (d !== null) return { type: 'drive', controller: Number(d[1]), bus: Number(d[2]), target: Number(d[3]), unit: Number(d[4]) };
  return undefined;
}
