/** Value patterns shared by the definition formats, each with the phrase problem messages use. Pure. */
import { DOMAIN_NAME_PATTERN } from '../model/domain.js';
import { DRIVE_ADDRESS_SOURCE, PCI_ADDRESS_SOURCE, USB_ADDRESS_SOURCE } from '../model/pci.js';

export interface NamedPattern {
  /** Regular expression source, as written into the JSON Schema. */
  readonly source: string;
  /** What a matching value looks like, for "expected ..." in problems. */
  readonly text: string;
}

function p(source: string, text: string): NamedPattern {
  return { source, text };
}

export const PATTERNS = {
  domainName: p(DOMAIN_NAME_PATTERN.source, 'a name of 1-64 letters, digits, `_`, `.`, `+` or `-` that starts with a letter, digit or `_`'),
  uuid: p('^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$', 'a UUID like 3f2a1c9e-0b7d-4c2e-9a51-6d0f8e2b4c71'),
  mac: p('^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$', 'a MAC address like 52:54:00:12:34:56'),
  ipv4: p('^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$', 'an IPv4 address like 127.0.0.1'),
  qemuId: p('^[A-Za-z][A-Za-z0-9_.-]{0,31}$', 'an id of up to 32 letters, digits, `_`, `.` or `-` that starts with a letter'),
  ifname: p('^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$', 'a network interface name of 1-15 letters, digits, `_`, `.` or `-`'),
  machineType: p('^[a-z0-9][a-z0-9_.-]*$', 'a QEMU machine type like q35, pc or microvm (lowercase)'),
  cpuModel: p('^[A-Za-z0-9][A-Za-z0-9_.-]*$', 'a QEMU CPU model name like host, max or Skylake-Client (no features)'),
  envName: p('^[A-Za-z_][A-Za-z0-9_]*$', 'an environment variable name (letters, digits and `_`, not starting with a digit)'),
  account: p('^[A-Za-z_][A-Za-z0-9_.-]*\\$?$', 'a user or group name'),
  index: p('^(0|[1-9][0-9]*)$', 'a number 0, 1, 2, ...'),
  pciAddress: p('^([0-9A-Fa-f]{4}:)?[0-9A-Fa-f]{2}:[01][0-9A-Fa-f]\\.[0-7]$', 'a host PCI address like 0000:03:10.2 (domain:bus:slot.function)'),
  cpuFeature: p('^[a-z0-9][a-z0-9_.-]{0,63}$', 'a QEMU CPU feature name like vmx, avx2, sse4.2 or kvm_pv_eoi (lowercase)'),
  oneLine: p('^[^\\r\\n]+$', 'one line of text (no line breaks)'),
  // ---- guest device addresses (src/model/pci.ts) ----
  guestPci: p(PCI_ADDRESS_SOURCE, 'a guest PCI address like pci:0000:00:03.0 (pci:domain:bus:slot.function, bus = the controller index; add ,multifunction=on on function 0 of a shared slot)'),
  diskAddress: p(`^(${PCI_ADDRESS_SOURCE.slice(1, -1)}|${DRIVE_ADDRESS_SOURCE.slice(1, -1)})$`, 'a guest PCI address like pci:0000:00:05.0 (virtio) or a drive address drive:CONTROLLER:BUS:TARGET:UNIT like drive:0:1:0:0 (scsi, sata, ide)'),
  usbAddress: p(USB_ADDRESS_SOURCE, 'a USB address like usb:0:1 (usb:BUS:PORT, BUS = the USB controller index)'),
  diskSerial: p('^[A-Za-z0-9_.+-]{1,36}$', 'a serial of 1-36 letters, digits, `_`, `.`, `+` or `-`'),
  // ---- volumes and templates (src/storage, src/images) ----
  volumeName: p('^[A-Za-z0-9_+-][A-Za-z0-9_.+-]{0,63}$', 'a volume name of 1-64 letters, digits, `_`, `.`, `+` or `-` that does not start with `.`'),
  templateId: p('^[-A-Za-z0-9._]{1,128}$', 'a template os-version like debian-12 (letters, digits, `-`, `.`, `_`)'),
  arch: p('^[A-Za-z0-9_]{1,32}$', 'an architecture like x86_64 or aarch64'),
} as const;

const BY_SOURCE = new Map<string, string>(Object.values(PATTERNS).map((x) => [x.source, x.text]));

export function patternText(source: string): string | undefined {
  return BY_SOURCE.get(source);
}
