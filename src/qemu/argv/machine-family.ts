/** Which built-in buses a QEMU machine type has. */

export type MachineFamily = 'q35' | 'pc' | 'microvm' | 'other';

/** `q35`/`pc-q35-*` → q35 (ICH9 AHCI on `ide.0`..`ide.5`); `pc`/`pc-i440fx-*` → pc (PIIX IDE `ide.0`, `ide.1`). */
export function machineFamily(type: string): MachineFamily {
  if (type === 'q35' || type.startsWith('pc-q35-')) return 'q35';
  if (type === 'pc' || type.startsWith('pc-i440fx-')) return 'pc';
  if (type === 'microvm') return 'microvm';
  return 'other';
}

/** microvm has no PCI bus: virtio devices use the virtio-mmio transport (`virtio-*-device`). */
export function virtioTransport(type: string): 'pci' | 'device' {
  return machineFamily(type) === 'microvm' ? 'device' : 'pci';
}
