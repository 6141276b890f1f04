/**
 * Devices with no host-side set-up by vmkit: assigned PCI devices (vfio-pci), the virtio balloon and virtio
 * RNGs, with libvirt's ids (`hostdev0`, `balloon0`, `rng0` fed by `objrng0`), in that order. Placed after the
 * display, where the libvirt import used to put them as fixed QEMU arguments: the argv did not change.
 */

import type { DomainSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';
import type { DeviceBootIndexes } from './device-boot.js';
import { virtioTransport } from './machine-family.js';
import { pciPlacer, type PciPlacer } from './pci-plan.js';
import { unsupported } from './unsupported.js';

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
  (spec.rngs ?? []).forEach((r, i) => {
    out.push('-object', r.backend === 'random' ? formatOpts('rng-random', [['id', `objrng${i}`], ['filename', r.source]]) : formatOpts('rng-builtin', [['id', `objrng${i}`]]));
    out.push('-device', formatOpts(`virtio-rng-${t}`, [['rng', `objrng${i}`], ['id', `rng${i}`], ...(t === 'pci' ? pci.opts(r.address, `rngs[${i}]`) : [])]));
  });
  return out;
}
