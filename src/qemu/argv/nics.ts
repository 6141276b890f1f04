/**
 * `-netdev` (user, tap or bridge) plus its guest `-device` per NIC; netdev id and device id are both the NIC
 * id. A libvirt-network NIC is a bridge netdev on the network's bridge (from the context). An assigned NIC
 * (hostdev) is one `vfio-pci` device and has no netdev.
 */

import type { DomainSpec, NicModel, NicSpec, PortForward } from '../../model/domain.js';
import { formatOpts, type OptEntry } from '../escape.js';
import type { BootIndexes } from './boot.js';
import type { ArgvContext } from './context.js';
import { virtioTransport } from './machine-family.js';
import { pciPlacer, type PciPlacer } from './pci-plan.js';
import { unsupported } from './unsupported.js';

/** Forwards without a host address listen on loopback only, never on every interface. */
export const DEFAULT_FORWARD_ADDRESS = '127.0.0.1';

const PCI_MODEL: Readonly<Record<NicModel, string>> = {
  virtio: 'virtio-net-pci',
  e1000: 'e1000',
  e1000e: 'e1000e',
  rtl8139: 'rtl8139',
};

export function nicArgs(spec: DomainSpec, boot: BootIndexes, ctx: Pick<ArgvContext, 'networkBridges'>, pci: PciPlacer = pciPlacer(spec)): string[] {
  return spec.nics.flatMap((nic, i) => {
    if (nic.kind === 'hostdev') {
      if (virtioTransport(spec.machine.type) === 'device') {
        unsupported(spec, `nics[${i}].type`, `Machine ${spec.machine.type} has no PCI bus for an assigned device`, 'hostdev');
      }
      // The MAC is set on the VF through its PF before QEMU starts (process/managed-hostdevs.ts): vfio-pci has none.
      return ['-device', formatOpts('vfio-pci', [['host', nic.host], ['id', nic.id], ['bootindex', boot.nics.get(nic.id)], ...pci.opts(nic.address, `nics[${i}]`)])];
    }
    return [
      '-netdev',
      netdevOpts(spec, nic, i, ctx),
      '-device',
      formatOpts(deviceDriver(spec, nic, i), [
        ['netdev', nic.id],
        ['id', nic.id],
        ['mac', nic.mac],
        ['host_mtu', nic.mtu],
        ['bootindex', boot.nics.get(nic.id)],
        ...(virtioTransport(spec.machine.type) === 'pci' ? pci.opts(nic.address, `nics[${i}]`) : []),
      ]),
    ];
  });
}

function netdevOpts(spec: DomainSpec, nic: Exclude<NicSpec, { kind: 'hostdev' }>, i: number, ctx: Pick<ArgvContext, 'networkBridges'>): string {
  switch (nic.kind) {
    case 'network': {
      const br = ctx.networkBridges?.get(nic.id);
      if (br === undefined) unsupported(spec, `nics[${i}].network`, `The bridge of libvirt network ${nic.network} was not looked up before the command line was written`, nic.network);
      return formatOpts('bridge', [
        ['id', nic.id],
        ['br', br],
      ]);
    }
    case 'tap':
      return formatOpts('tap', [
        ['id', nic.id],
        ['ifname', nic.ifname],
        ['script', 'no'],
        ['downscript', 'no'],
      ]);
    case 'bridge':
      return formatOpts('bridge', [
        ['id', nic.id],
        ['br', nic.bridge],
      ]);
    case 'user': {
      const forwards: OptEntry[] = nic.forwards.map((f) => ['hostfwd', hostfwd(f)]);
      return formatOpts('user', [['id', nic.id], ...forwards]);
    }
  }
}

/** `tcp:127.0.0.1:2222-:22` */
export function hostfwd(f: PortForward): string {
  return `${f.protocol}:${f.hostAddress ?? DEFAULT_FORWARD_ADDRESS}:${f.hostPort}-:${f.guestPort}`;
}

function deviceDriver(spec: DomainSpec, nic: Exclude<NicSpec, { kind: 'hostdev' }>, i: number): string {
  if (nic.mtu !== undefined && nic.model !== 'virtio') {
    unsupported(spec, `nics[${i}].mtu`, `Only virtio NICs take an MTU (host_mtu); ${nic.model} does not`, String(nic.mtu));
  }
  if (virtioTransport(spec.machine.type) === 'device') {
    if (nic.model !== 'virtio') {
      unsupported(spec, `nics[${i}].model`, `Machine ${spec.machine.type} has no PCI bus: use model virtio`, nic.model);
    }
    return 'virtio-net-device';
  }
  return PCI_MODEL[nic.model];
}
