/**
 * `pinning: auto`, pure: one host CPU per vCPU, computed from the host topology.
 *
 * Rules, in order of importance:
 * 1. Only online CPUs that no other VM of the connection pinned (`exclude`).
 * 2. A guest core with N threads (CpuSpec.threads > 1) gets N SMT siblings of one host core, so guest
 *    sibling pairs share a host core as they believe they do. Hosts without SMT fall back to rule 4.
 * 3. One NUMA node if the VM fits in one (the node with the most usable CPUs, then the lowest id);
 *    otherwise nodes are filled in that same order.
 * 4. Guests without SMT get distinct host cores first (first siblings of every core, then second ones).
 * 5. CPU 0 and its SMT siblings (interrupts, housekeeping share that core) only when the VM does not fit
 *    otherwise; preferring one NUMA node outranks avoiding CPU 0.
 * vCPU i belongs to guest core floor(i / threads), QEMU's x86 numbering.
 */
import { VmkitError } from '../errors.js';
import type { CpuSpec } from '../model/domain.js';
import type { HostCpu, HostTopology } from '../host/topology.js';
import { formatCpuSet } from '../util/cpu-set.js';

export interface VcpuPlacement {
  vcpu: number;
  cpus: number[];
}

interface HostCore {
  node: number;
  socket: number;
  core: number;
  /** usable CPUs of this core, ascending */
  cpus: number[];
}

function coresOf(cpus: readonly HostCpu[]): HostCore[] {
  const byKey = new Map<string, HostCore>();
  for (const c of cpus) {
    // Unknown topology (-1) makes each CPU its own core.
    const key = c.core < 0 ? `cpu${c.id}` : `${c.node}/${c.socket}/${c.core}`;
    let core = byKey.get(key);
    if (core === undefined) {
      core = { node: c.node, socket: c.socket, core: c.core, cpus: [] };
      byKey.set(key, core);
    }
    core.cpus.push(c.id);
  }
  const cores = [...byKey.values()];
  for (const core of cores) core.cpus.sort((a, b) => a - b);
  return cores.sort((a, b) => a.socket - b.socket || a.core - b.core || a.cpus[0]! - b.cpus[0]!);
}

/** Host CPUs for `want` vCPUs in groups of `tpc` siblings from these cores, or undefined. */
function pick(cores: readonly HostCore[], want: number, tpc: number, smt: boolean): number[] | undefined {
  const out: number[] = [];
  if (smt) {
    const guestCores = Math.ceil(want / tpc);
    let placed = 0;
    for (const core of cores) {
      if (placed === guestCores) break;
      if (core.cpus.length < tpc) continue;
      // The last guest core may be partial (vcpus not a multiple of threads).
      const n = Math.min(tpc, want - out.length);
      out.push(...core.cpus.slice(0, n));
      placed++;
    }
    return placed === guestCores ? out : undefined;
  }
  // Breadth-first over siblings: distinct cores before second threads.
  const depth = Math.max(0, ...cores.map((c) => c.cpus.length));
  for (let rank = 0; rank < depth && out.length < want; rank++) {
    for (const core of cores) {
      const cpu = core.cpus[rank];
      if (cpu !== undefined) out.push(cpu);
      if (out.length === want) break;
    }
  }
  return out.length === want ? out : undefined;
}

/**
 * Pins every vCPU of `cpu` to one host CPU of `topo`, following the rules above. `exclude`: CPUs pinned by
 * other VMs. Throws InvalidArgument when the VM cannot fit.
 */
export function autoPlace(cpu: CpuSpec, topo: HostTopology, opts: { exclude?: readonly number[] } = {}): VcpuPlacement[] {
  const want = cpu.vcpus;
  const tpc = Math.max(1, cpu.threads);
  if (!Number.isInteger(want) || want < 1) {
    throw new VmkitError('InvalidArgument', `Cannot place ${want} vCPUs automatically: expected at least 1`);
  }
  const exclude = new Set(opts.exclude ?? []);
  const usable = topo.cpus.filter((c) => c.online && !exclude.has(c.id));
  const hostSmt = Math.max(1, ...topo.cpus.filter((c) => c.online).map((c) => c.siblings.length));
  const smt = tpc > 1 && hostSmt >= tpc;

  // Nodes by usable CPUs (most first), then id.
  const nodeOrder = [...new Set(usable.map((c) => c.node))].sort((a, b) => {
    const na = usable.filter((c) => c.node === a).length;
    const nb = usable.filter((c) => c.node === b).length;
    return nb - na || a - b;
  });
  const core0 = new Set(topo.cpus.find((c) => c.id === 0)?.siblings ?? [0]);
  const attempt = (allowCpu0: boolean, nodes: readonly number[]): number[] | undefined => {
    const cores = nodes.flatMap((n) => coresOf(usable.filter((c) => c.node === n && (allowCpu0 || !core0.has(c.id)))));
    return pick(cores, want, tpc, smt);
  };
  let chosen: number[] | undefined;
  for (const allowCpu0 of [false, true]) {
    for (const n of nodeOrder) {
      chosen = attempt(allowCpu0, [n]);
      if (chosen !== undefined) break;
    }
    if (chosen !== undefined) break;
  }
  if (chosen === undefined) chosen = attempt(false, nodeOrder) ?? attempt(true, nodeOrder);
  if (chosen === undefined) {
    const shape = `${cpu.sockets} socket(s) x ${cpu.cores} core(s) x ${tpc} thread(s)`;
    const pairs = smt
      ? `, ${coresOf(usable).filter((c) => c.cpus.length >= tpc).length} host cores with ${tpc} free SMT siblings`
      : '';
    const ex = exclude.size > 0 ? `; CPUs ${formatCpuSet([...exclude])} are pinned by other VMs` : '';
    throw new VmkitError(
      'InvalidArgument',
      `Cannot place ${want} vCPUs (${shape}) automatically: the host has ${usable.length} usable CPUs (${formatCpuSet(usable.map((c) => c.id)) || 'none'})${pairs}${ex}. Use fewer vCPUs or pin them explicitly.`,
      { details: { vcpus: want, threads: tpc, usable: usable.map((c) => c.id), exclude: [...exclude] } },
    );
  }
  return chosen.map((c, vcpu) => ({ vcpu, cpus: [c] }));
}
