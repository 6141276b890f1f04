/**
 * The host bridge of a libvirt virtual network, read from libvirtd's own files: the running network's status
 * (`/run/libvirt/network/NAME.xml`, a `<networkstatus>` around the `<network>`) and otherwise its persistent
 * definition (`/etc/libvirt/qemu/networks/NAME.xml`). No libvirt call and no process: two file reads at most.
 * libvirtd keeps running the network (bridge, DHCP, NAT); vmkit only joins its bridge.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmkitError, type Problem } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';

export interface LibvirtNetworkDirs {
  /** Running networks' status files (libvirtd writes them when a network starts). */
  readonly status: string;
  /** Persistent network definitions (`virsh net-define`). */
  readonly config: string;
}

export const LIBVIRT_NETWORK_DIRS: LibvirtNetworkDirs = { status: '/run/libvirt/network', config: '/etc/libvirt/qemu/networks' };

export interface NetworkBridge {
  readonly bridge: string;
  /** The network is running (its status file exists); a defined network that is not may have no bridge yet. */
  readonly active: boolean;
  /** The file the bridge was read from. */
  readonly file: string;
}

/** Looks `name` up (status first, then definition); throws HostError saying what to do when it cannot. */
export async function lookupNetworkBridge(name: string, dirs: LibvirtNetworkDirs = LIBVIRT_NETWORK_DIRS): Promise<NetworkBridge> {
  // Names come from validated definitions (the domain-name pattern); this guards against any other caller.
  if (name === '' || name.includes('/') || name.startsWith('.')) throw new VmkitError('InvalidArgument', `Invalid libvirt network name ${JSON.stringify(name)}`);
  const tried: string[] = [];
  for (const [dir, active] of [[dirs.status, true], [dirs.config, false]] as const) {
    const file = join(dir, `${name}.xml`);
    tried.push(file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new VmkitError('HostError', `Cannot read libvirt network ${name} from ${file}: ${(e as Error).message}`);
    }
    const { bridgeOfNetworkXml } = await import('./network-xml.js');
    const found = bridgeOfNetworkXml(text);
    if ('bridge' in found) return { bridge: found.bridge, active, file };
    const hint = active ? '' : `; if it is defined but not running, start it: virsh net-start ${name}`;
    throw new VmkitError('HostError', `libvirt network ${name} (${file}) has no bridge vmkit can join: ${found.problem}${hint}`);
  }
  throw new VmkitError(
    'HostError',
    `There is no libvirt network ${name} (looked for ${tried.join(' and ')}): define and start it (virsh net-define FILE; virsh net-start ${name}), or connect the NIC to a host bridge with type: bridge`,
  );
}

/**
 * The bridge of every libvirt-network NIC of `spec`, by NIC id. Every problem is reported at once, each a
 * Problem at its NIC's `nics[N].network` (in `details.problems`, as ConfigError has them), in one HostError.
 * Nothing to look up (no network NIC, or a qemu-launcher spec): an empty map.
 */
export async function networkBridges(spec: DomainSpec, dirs: LibvirtNetworkDirs = LIBVIRT_NETWORK_DIRS): Promise<Map<string, NetworkBridge>> {
  const out = new Map<string, NetworkBridge>();
  if (spec.rawOptions !== undefined) return out;
  const nics = spec.nics.flatMap((n, i) => (n.kind === 'network' ? [{ i, id: n.id, network: n.network }] : []));
  const looked = await Promise.allSettled(nics.map((n) => lookupNetworkBridge(n.network, dirs)));
  const problems: Problem[] = [];
  looked.forEach((r, k) => {
    const nic = nics[k];
    if (nic === undefined) return;
    if (r.status === 'fulfilled') out.set(nic.id, r.value);
    else problems.push(nicProblem(spec, `nics[${nic.i}].network`, (r.reason as Error).message, JSON.stringify(nic.network)));
  });
  if (problems.length > 0) throw hostProblemsError(`Cannot connect domain ${spec.name} to its libvirt network${nics.length > 1 ? 's' : ''}`, problems);
  return out;
}

/** A Problem at a field of `spec`, in its definition file (positions are added by whoever has the text). */
export function nicProblem(spec: DomainSpec, path: string, message: string, found?: string): Problem {
  return { ...(spec.source.file === undefined ? {} : { file: spec.source.file }), path, message, ...(found === undefined ? {} : { found }) };
}

/** A HostError listing `problems` (each `path: message` on its own line) with them in `details.problems`. */
export function hostProblemsError(head: string, problems: readonly Problem[]): VmkitError {
  const lines = problems.map((p) => `${p.path === '' ? '' : `${p.path}: `}${p.message}`);
  return new VmkitError('HostError', `${head}:\n  ${lines.join('\n  ')}`, { details: { problems } });
}
