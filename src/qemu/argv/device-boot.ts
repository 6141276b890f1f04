/**
 * Boot indexes for every device: the disk and boot-order plan of boot.ts, plus the explicit per-device
 * indexes of NICs (`nics[].bootIndex`) and assigned PCI devices (`hostdevs[].bootIndex`). The resolvers make
 * explicit indexes unique and keep them apart from `boot.order`.
 */

import type { DomainSpec } from '../../model/domain.js';
import { planBootIndexes, type BootIndexes } from './boot.js';

export interface DeviceBootIndexes extends BootIndexes {
  /** hostdev position → bootindex */
  readonly hostdevs: ReadonlyMap<number, number>;
}

export function planDeviceBoot(spec: DomainSpec): DeviceBootIndexes {
  const base = planBootIndexes(spec);
  const nics = new Map(base.nics);
  for (const n of spec.nics) if (n.bootIndex !== undefined) nics.set(n.id, n.bootIndex);
  const hostdevs = new Map<number, number>();
  (spec.hostdevs ?? []).forEach((h, i) => {
    if (h.bootIndex !== undefined) hostdevs.set(i, h.bootIndex);
  });
  return { disks: base.disks, nics, hostdevs };
}
