/** Native YAML: NICs (user, tap, bridge, libvirt network, assigned hostdev), port forwards and MAC addresses. Pure. */
import type { Static } from '@sinclair/typebox';
import type { NicModel, NicSpec, PortForward } from '../../model/domain.js';
import { child } from '../pointer.js';
import type { Loose, ResolveContext } from '../resolve-context.js';
import { resolvePciAddress } from './resolve-addresses.js';
import { normalizePci, type PciOwners } from './resolve-devices.js';
import type { NicInput, UserNicInput } from './schema.js';

/** Default host address of port forwards: loopback, so a forward never exposes the guest by accident. */
export const DEFAULT_FORWARD_ADDRESS = '127.0.0.1';

/** The fields of the NIC kinds that have a netdev (user, tap, bridge, network). */
type NetNicIn = Loose<{ type: 'user' | 'tap' | 'bridge' | 'network'; model?: NicModel; mac?: string; mtu?: number; ifname?: string; bridge?: string; network?: string; address?: string }>;

export function resolveNics(input: Loose<readonly (Static<typeof NicInput> | undefined)[]> | undefined, ctx: ResolveContext, pci: PciOwners = new Map()): NicSpec[] {
  const nics: NicSpec[] = [];
  const macs = new Map<string, number>();
  const ifnames = new Map<string, number>();
  const ports = new Map<string, string>();
  (input ?? []).forEach((n, i) => {
    if (n === undefined) return;
    const at = child('/nics', i);
    const id = `net${i}`;
    const address = resolvePciAddress((n as { address?: string }).address);
    const boot = { ...(n.boot_index === undefined ? {} : { bootIndex: n.boot_index }), ...(address === undefined ? {} : { address }) };
    const nn = n as NetNicIn;
    let mac: string | undefined;
    if (nn.mac !== undefined) {
      mac = nn.mac.toLowerCase();
      const first = parseInt(mac.slice(0, 2), 16);
      if ((first & 1) === 1) {
        ctx.problems.add(child(at, 'mac'), {
          message: 'This is a multicast MAC address (lowest bit of the first byte set); a NIC needs a unicast address',
          expected: 'a unicast MAC such as 52:54:00:xx:xx:xx',
          found: JSON.stringify(nn.mac),
        });
      }
      const prev = macs.get(mac);
      if (prev !== undefined) {
        ctx.problems.add(child(at, 'mac'), { message: `MAC address ${mac} is already used by nics[${prev}]`, found: JSON.stringify(nn.mac) });
      } else {
        macs.set(mac, i);
      }
    }
    if (n.type === 'hostdev') {
      const h = n as Loose<{ host: string; managed?: boolean }>;
      const host = normalizePci(h.host, child(at, 'host'), `nics[${i}]`, pci, ctx);
      nics.push({ kind: 'hostdev', id, model: 'vfio-pci', host: host ?? '', ...(mac === undefined ? {} : { mac }), ...boot, ...(h.managed === true ? { managed: true } : {}) });
      return;
    }
    const model = nn.model ?? 'virtio';
    if (nn.mtu !== undefined && model !== 'virtio') {
      ctx.problems.add(child(at, 'mtu'), { message: `Only virtio NICs can be told an MTU; this NIC's model is ${model}`, expected: 'model: virtio, or no mtu', found: String(nn.mtu) });
    }
    const common = { id, model, ...(mac === undefined ? {} : { mac }), ...boot, ...(nn.mtu === undefined ? {} : { mtu: nn.mtu }) };
    if (nn.type === 'tap') {
      const ifname = nn.ifname ?? '';
      const prev = ifnames.get(ifname);
      if (nn.ifname !== undefined && prev !== undefined) {
        ctx.problems.add(child(at, 'ifname'), { message: `Tap interface ${ifname} is already used by nics[${prev}]`, found: JSON.stringify(ifname) });
      } else if (nn.ifname !== undefined) {
        ifnames.set(ifname, i);
      }
      nics.push({ kind: 'tap', ...common, ifname });
      return;
    }
    if (nn.type === 'bridge') {
      nics.push({ kind: 'bridge', ...common, bridge: nn.bridge ?? '' });
      return;
    }
    if (nn.type === 'network') {
      nics.push({ kind: 'network', ...common, network: nn.network ?? '' });
      return;
    }
    const forwards: PortForward[] = [];
    ((nn as Loose<Static<typeof UserNicInput>>).forwards ?? []).forEach((f, j) => {
      if (f === undefined || f.host === undefined || f.guest === undefined) return;
      const fat = child(child(at, 'forwards'), j);
      const protocol = f.protocol ?? 'tcp';
      const key = `${protocol}:${f.host}`;
      const prev = ports.get(key);
      if (prev !== undefined) {
        ctx.problems.add(child(fat, 'host'), {
          message: `Host ${protocol} port ${f.host} is already forwarded by ${prev}; each host port can be forwarded once`,
          found: String(f.host),
        });
      } else {
        ports.set(key, `nics[${i}].forwards[${j}]`);
      }
      forwards.push({ protocol, hostAddress: f.address ?? DEFAULT_FORWARD_ADDRESS, hostPort: f.host, guestPort: f.guest });
    });
    nics.push({ kind: 'user', ...common, forwards });
  });
  return nics;
}
