/**
 * Which host tap carries each NIC of a running QEMU. A `tap` NIC names its tap; a `bridge` (or libvirt
 * `network`) NIC's tap was created by qemu-bridge-helper under a name QEMU never learns, so it is found among
 * the taps QEMU holds open (its /dev/net/tun descriptors): QEMU creates netdevs in command-line order, one
 * at a time, and interface indexes grow with creation, so the taps left after the named ones belong to the
 * bridge NICs in order (each checked against its bridge). Pure: the taps are read by host-reads.ts.
 */
import type { NicSpec } from '../model/domain.js';
import type { TunInterface } from './host-reads.js';

export type NicSource = { readonly id: string; readonly kind: string; readonly hostIf: string } | { readonly id: string; readonly kind: string; readonly unavailable: string };

export function mapNics(nics: readonly NicSpec[], taps: readonly TunInterface[]): NicSource[] {
  const named = new Set(nics.flatMap((n) => (n.kind === 'tap' ? [n.ifname] : [])));
  const helperTaps = taps.filter((t) => !named.has(t.name));
  let next = 0;
  return nics.map((n): NicSource => {
    switch (n.kind) {
      case 'tap':
        return { id: n.id, kind: n.kind, hostIf: n.ifname };
      case 'bridge':
      case 'network': {
        const tap = helperTaps[next++];
        if (tap === undefined) return { id: n.id, kind: n.kind, unavailable: 'QEMU holds no tap for it' };
        if (n.kind === 'bridge' && tap.master !== undefined && tap.master !== n.bridge) {
          return { id: n.id, kind: n.kind, unavailable: `its tap could not be told apart (tap ${tap.name} is a port of ${tap.master}, not ${n.bridge})` };
        }
        return { id: n.id, kind: n.kind, hostIf: tap.name };
      }
      case 'user':
        return { id: n.id, kind: n.kind, unavailable: 'user-mode networking (slirp) keeps no counters QEMU reports' };
      case 'hostdev':
        return { id: n.id, kind: n.kind, unavailable: 'an assigned device: its counters are on the host device' };
    }
  });
}
