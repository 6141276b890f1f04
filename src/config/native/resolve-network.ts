/** Native YAML: NICs, port forwards and MAC addresses. Pure. */
import type { Static } from '@sinclair/typebox';
import type { NicSpec, PortForward } from '../../model/domain.js';
import { child } from '../pointer.js';
import type { Loose, ResolveContext } from '../resolve-context.js';
import type { NicInput, UserNicInput } from './schema.js';

/** Default host address of port forwards: loopback, so a forward never exposes the guest by accident. */
export const DEFAULT_FORWARD_ADDRESS = '127.0.0.1';

export function resolveNics(input: Loose<readonly (Static<typeof NicInput> | undefined)[]> | undefined, ctx: ResolveContext): NicSpec[] {
  const nics: NicSpec[] = [];
  const macs = new Map<string, number>();
  const ifnames = new Map<string, number>();
  const ports = new Map<string, string>();
  (input ?? []).forEach((n, i) => {
    if (n === undefined) return;
    const at = child('/nics', i);
    const id = `net${i}`;
    const model = n.model ?? 'virtio';
    let mac: string | undefined;
    if (n.mac !== undefined) {
      mac = n.mac.toLowerCase();
      const first = parseInt(mac.slice(0, 2), 16);
      if ((first & 1) === 1) {
        ctx.problems.add(child(at, 'mac'), {
          message: 'This is a multicast MAC address (lowest bit of the first byte set); a NIC needs a unicast address',
          expected: 'a unicast MAC such as 52:54:00:xx:xx:xx',
          found: JSON.stringify(n.mac),
        });
      }
      const prev = macs.get(mac);
      if (prev !== undefined) {
        ctx.problems.add(child(at, 'mac'), { message: `MAC address ${mac} is already used by nics[${prev}]`, found: JSON.stringify(n.mac) });
      } else {
        macs.set(mac, i);
      }
    }
    const common = { id, model, ...(mac === undefined ? {} : { mac }) };
    if (n.type === 'tap') {
      const ifname = n.ifname ?? '';
      const prev = ifnames.get(ifname);
      if (n.ifname !== undefined && prev !== undefined) {
        ctx.problems.add(child(at, 'ifname'), { message: `Tap interface ${ifname} is already used by nics[${prev}]`, found: JSON.stringify(ifname) });
      } else if (n.ifname !== undefined) {
        ifnames.set(ifname, i);
      }
      nics.push({ kind: 'tap', ...common, ifname });
      return;
    }
    const forwards: PortForward[] = [];
    ((n as Loose<Static<typeof UserNicInput>>).forwards ?? []).forEach((f, j) => {
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
