/**
 * Bridge NICs start QEMU's setuid bridge helper, which creates the tap and joins it to the bridge when its
 * ACL (/etc/qemu/bridge.conf) allows that bridge. QEMU only says "failed to launch bridge helper" when it
 * cannot; this checks the same things before QEMU starts and says what to change.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { Problem } from '../errors.js';
import { hostProblemsError, nicProblem, type NetworkBridge } from '../host/libvirt-network.js';
import type { DomainSpec } from '../model/domain.js';

/** QEMU's built-in helper path on Debian (CONFIG_QEMU_HELPERDIR). */
export const BRIDGE_HELPER = '/usr/lib/qemu/qemu-bridge-helper';
export const BRIDGE_CONF = '/etc/qemu/bridge.conf';

export interface BridgeAcl {
  readonly allow: ReadonlySet<string>;
  readonly deny: ReadonlySet<string>;
}

/** Reads the helper's ACL the way the helper does: `allow NAME|all`, `deny NAME|all`, `include FILE`, `#` comments. */
export async function readBridgeAcl(file: string = BRIDGE_CONF, seen = new Set<string>()): Promise<BridgeAcl> {
  const allow = new Set<string>();
  const deny = new Set<string>();
  if (seen.has(file)) return { allow, deny };
  seen.add(file);
  const text = await readFile(file, 'utf8');
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [cmd, arg] = line.split(/\s+/, 2) as [string, string | undefined];
    if (arg === undefined) continue;
    if (cmd === 'allow') allow.add(arg);
    else if (cmd === 'deny') deny.add(arg);
    else if (cmd === 'include') {
      const inc = await readBridgeAcl(isAbsolute(arg) ? arg : join(dirname(file), arg), seen);
      for (const a of inc.allow) allow.add(a);
      for (const d of inc.deny) deny.add(d);
    }
  }
  return { allow, deny };
}

/** The helper's decision: a deny (of the bridge or of all) wins, then an allow (of the bridge or of all). */
export function bridgeAllowed(acl: BridgeAcl, bridge: string): boolean {
  if (acl.deny.has(bridge) || acl.deny.has('all')) return false;
  return acl.allow.has(bridge) || acl.allow.has('all');
}

/**
 * Rejects (HostError, every problem a Problem at its NIC in `details.problems`) a spec whose bridge NICs cannot work here: the helper is missing or not setuid root
 * while QEMU does not run as root, the ACL is missing or does not allow the bridge, or the bridge does not
 * exist. `asRoot`: QEMU runs as root (then the helper needs no setuid bit). `networks`: the bridges of the
 * spec's libvirt-network NICs (by NIC id), which are checked the same way.
 */
export async function checkBridges(
  spec: DomainSpec,
  opts: { readonly asRoot: boolean; readonly helper?: string; readonly conf?: string; readonly sysNet?: string; readonly networks?: ReadonlyMap<string, NetworkBridge> },
): Promise<void> {
  if (spec.rawOptions !== undefined) return;
  type Wanted = { path: string; bridge: string; network: { name: string; active: boolean } | undefined };
  const bridges = spec.nics.flatMap((n, i): Wanted[] => {
    if (n.kind === 'bridge') return [{ path: `nics[${i}].bridge`, bridge: n.bridge, network: undefined }];
    if (n.kind !== 'network') return [];
    const net = opts.networks?.get(n.id);
    return net === undefined ? [] : [{ path: `nics[${i}].network`, bridge: net.bridge, network: { name: n.network, active: net.active } }];
  });
  const first = bridges[0];
  if (first === undefined) return;
  const helper = opts.helper ?? BRIDGE_HELPER;
  const conf = opts.conf ?? BRIDGE_CONF;
  const sysNet = opts.sysNet ?? '/sys/class/net';
  const problems: Problem[] = [];
  // Problems of the helper itself are reported at the first NIC that needs it.
  const add = (path: string, message: string, found?: string): void => {
    problems.push(nicProblem(spec, path, message, found));
  };
  const st = await stat(helper).catch(() => undefined);
  if (st === undefined) add(first.path, `QEMU's bridge helper ${helper} is missing: install qemu-system-common`);
  else if (!opts.asRoot && (st.uid !== 0 || (st.mode & 0o4000) === 0)) {
    add(first.path, `QEMU does not run as root and ${helper} is not setuid root: chmod u+s ${helper} (as Debian's qemu-system-common leaves it off), or run QEMU as root`);
  }
  let acl: BridgeAcl | undefined;
  try {
    acl = await readBridgeAcl(conf);
  } catch (e) {
    add(first.path, `The bridge helper reads its allowed bridges from ${conf}, which cannot be read (${(e as Error).message}): create it with a line "allow ${first.bridge}"`);
  }
  for (const { path, bridge, network } of bridges) {
    const of = network === undefined ? '' : ` (of libvirt network ${network.name})`;
    const found = JSON.stringify(network?.name ?? bridge);
    if (acl !== undefined && !bridgeAllowed(acl, bridge)) add(path, `${conf} does not allow bridge ${bridge}${of}: add the line "allow ${bridge}"`, found);
    const isBridge = await stat(join(sysNet, bridge, 'bridge')).then(
      () => true,
      () => false,
    );
    if (isBridge) continue;
    if (network === undefined) add(path, `there is no host bridge ${bridge} (create it: ip link add ${bridge} type bridge; ip link set ${bridge} up)`, found);
    else if (!network.active) add(path, `libvirt network ${network.name} is not running, so its bridge ${bridge} does not exist: start it (virsh net-start ${network.name})`, found);
    else add(path, `there is no host bridge ${bridge}, although libvirt network ${network.name} is marked running: restart it (virsh net-destroy ${network.name}; virsh net-start ${network.name})`, found);
  }
  if (problems.length > 0) throw hostProblemsError(`Cannot connect domain ${spec.name} to its bridge${bridges.length > 1 ? 's' : ''}`, problems);
}
