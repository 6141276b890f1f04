/**
 * Devices with no host-side set-up by vmkit: assigned PCI devices (vfio-pci), the virtio balloon, virtio-mem
 * (`vmem0` on its backend `vmkit-vmem0`) and virtio RNGs, with libvirt's ids (`hostdev0`, `balloon0`, `rng0` fed by `objrng0`), in that order. Placed after the
 * display, where the libvirt import used to put them as fixed QEMU arguments: the argv did not change.
 */

import type { DomainSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';
import type { DeviceBootIndexes } from './device-boot.js';
import { virtioTransport } from './machine-family.js';
import { pciPlacer, type PciPlacer } from './pci-plan.js';
import { unsupported } from './unsupported.js';

/** The virtio-mem device's QEMU id (QOM path /machine/peripheral/vmem0) and its memory backend's. */
export const VIRTIO_MEM_ID = 'vmem0';
export const VIRTIO_MEM_BACKEND = 'vmkit-vmem0';

export function deviceArgs(spec: DomainSpec, boot: DeviceBootIndexes, pci: PciPlacer = pciPlacer(spec)): string[] {
  const t = virtioTransport(spec.machine.type);
  const out: string[] = [];
  (spec.hostdevs ?? []).forEach((h, i) => {
    if (t === 'device') unsupported(spec, `hostdevs[${i}]`, `Machine ${spec.machine.type} has no PCI bus for an assigned device`, h.host);
    out.push('-device', formatOpts('vfio-pci', [['host', h.host], ['id', `hostdev${i}`], ['bootindex', boot.hostdevs.get(i)], ...pci.opts(h.address, `hostdevs[${i}]`)]));
  });
  const b = spec.balloon;
  if (b !== undefined) {
    out.push(
      '-device',
      formatOpts(`virtio-balloon-${t}`, [
        ['id', 'balloon0'],
        ['deflate-on-oom', b.autodeflate ? true : undefined],
        ['free-page-reporting', b.freePageReporting ? true : undefined],
        ['guest-stats-polling-interval', b.statsPeriod],
        ...(t === 'pci' ? pci.opts(b.address, 'balloon') : []),
      ]),
    );
  }
  const vm = spec.virtioMem;
  if (vm !== undefined) {
    if (t !== 'pci') unsupported(spec, 'virtio_mem', `Machine ${spec.machine.type} has no PCI bus for virtio-mem`, spec.machine.type);
    out.push('-object', formatOpts('memory-backend-ram', [['id', VIRTIO_MEM_BACKEND], ['size', `${vm.sizeMiB}M`]]));
    out.push(
      '-device',
      formatOpts('virtio-mem-pci', [
        ['id', VIRTIO_MEM_ID],
        ['memdev', VIRTIO_MEM_BACKEND],
        ['requested-size', `${vm.requestedMiB}M`],
        ['block-size', vm.blockMiB === undefined ? undefined : `${vm.blockMiB}M`],
        ...pci.opts(undefined, 'virtio_mem'),
      ]),
    );
  }
  (spec.rngs ?? []).forEach((r, i) => {
    out.push('-object', r.backend === 'random' ? formatOpts('rng-random', [['id', `objrng${i}`], ['filename', r.source]]) : formatOpts('rng-builtin', [['id', `objrng${i}`]]));
    out.push('-device', formatOpts(`virtio-rng-${t}`, [['rng', `objrng${i}`], ['id', `rng${i}`], ...(t === 'pci' ? pci.opts(r.address, `rngs[${i}]`) : [])]));
  });
  return out;
}
