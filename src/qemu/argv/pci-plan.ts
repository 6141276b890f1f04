/**
 * Where PCI devices go: `bus=<id>,addr=<slot.fn>` for a device with a guest address (its bus named as
 * libvirt names it: `pcie.0`/`pci.0` for the root, `pci.<index>` for a controller's bus). Once a spec places
 * anything itself (an address or a controller), vmkit places the rest too, on free root-bus slots in argv
 * order, so QEMU's own choice can never take a slot a later device asks for. Without any, QEMU places
 * everything (no `bus=`/`addr=`), as before.
 */

import type { DomainSpec, PciAddressSpec } from '../../model/domain.js';
import { BUILTIN_FUNCTIONS, pciBusId, pciRoot, qemuAddr, type PciRoot } from '../../model/pci.js';
import type { OptEntry } from '../escape.js';
import { unsupported } from './unsupported.js';

export interface PciPlacer {
  /** The `bus`/`addr`/`multifunction` options for a device (its own address, or the next free root slot). */
  opts(address: PciAddressSpec | undefined, what: string): OptEntry[];
  /** The QEMU id of the bus of PCI controller `index`. */
  busId(index: number): string;
}

/** Every guest PCI address a spec names. */
export function explicitPciAddresses(spec: DomainSpec): PciAddressSpec[] {
  const out: (PciAddressSpec | undefined)[] = [
    ...(spec.controllers ?? []).map((c) => c.address),
    ...spec.disks.map((d) => (d.address?.type === 'pci' ? d.address : undefined)),
    ...spec.nics.map((n) => n.address),
    ...(spec.hostdevs ?? []).map((h) => h.address),
    spec.balloon?.address,
    ...(spec.rngs ?? []).map((r) => r.address),
    spec.graphics.type === 'vnc' ? spec.graphics.videoAddress : undefined,
  ];
  return out.filter((a): a is PciAddressSpec => a !== undefined);
}

export function pciPlacer(spec: DomainSpec): PciPlacer {
  const root: PciRoot = pciRoot(spec.machine.type);
  const explicit = explicitPciAddresses(spec);
  const active = root !== 'none' && (explicit.length > 0 || (spec.controllers ?? []).length > 0);
  const usedSlots = new Set<number>();
  if (root !== 'none') for (const b of BUILTIN_FUNCTIONS[root]) usedSlots.add(b.slot);
  for (const a of explicit) if (a.bus === 0) usedSlots.add(a.slot);
  const busId = (index: number): string => pciBusId(root, index);
  return {
    busId,
    opts(address, what) {
      if (!active) return [];
      let a = address;
      if (a === undefined) {
        let slot = 1;
        while (usedSlots.has(slot) && slot <= 0x1f) slot++;
        if (slot > 0x1f) unsupported(spec, what, 'The root PCI bus has no free slot left for this device: give it an address on a bridge or root port', 'no free slot');
        usedSlots.add(slot);
        a = { type: 'pci', domain: 0, bus: 0, slot, function: 0 };
      }
      return [
        ['bus', busId(a.bus)],
        ['multifunction', a.multifunction === true ? true : undefined],
        ['addr', qemuAddr(a)],
      ];
    },
  };
}
