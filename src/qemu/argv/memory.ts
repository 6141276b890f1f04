/**
 * Guest RAM: `-m`, and when RAM needs a policy (hugepages, preallocation, host NUMA binding, guest NUMA
 * cells) explicit memory backends: one `-machine memory-backend=` backend, or one backend per guest cell
 * tied to it with `-numa node,memdev=`. `-overcommit mem-lock=on` locks RAM. With virtio-mem, `-m` gets
 * `maxmem=` (the device and its backend are in devices.ts).
 */

import type { CpuSet, DomainSpec, NumaMode } from '../../model/domain.js';
import { formatOpts, type OptEntry } from '../escape.js';

export const MEMORY_BACKEND_ID = 'vmkit-ram';
export const DEFAULT_HUGEPAGES_PATH = '/dev/hugepages';

const POLICY: Readonly<Record<NumaMode, string>> = { strict: 'bind', preferred: 'preferred', interleave: 'interleave' };

/** The backend id for `-machine memory-backend=`, when RAM is one backend (no guest NUMA cells). */
export function machineMemoryBackend(spec: DomainSpec): string | undefined {
  if (spec.numaCells.length > 0) return undefined;
  const mb = spec.memoryBacking;
  return mb.hugepages !== undefined || mb.prealloc || spec.numaTune !== undefined ? MEMORY_BACKEND_ID : undefined;
}

export function memoryArgs(spec: DomainSpec): string[] {
  const args: string[] = [];
  const single = machineMemoryBackend(spec);
  if (single !== undefined) {
    args.push('-object', backendOpts(spec, single, spec.memoryMiB, spec.numaTune?.hostNodes, spec.numaTune?.mode));
  }
  // virtio-mem: the device's memory lies above the boot RAM, within maxmem (no DIMM slots needed).
  args.push('-m', spec.virtioMem === undefined ? `${spec.memoryMiB}M` : formatOpts(`${spec.memoryMiB}M`, [['maxmem', `${spec.memoryMiB + spec.virtioMem.sizeMiB}M`]]));
  for (const cell of spec.numaCells) {
    const id = `${MEMORY_BACKEND_ID}-node${cell.id}`;
    const hostNodes = cell.hostNodes ?? spec.numaTune?.hostNodes;
    const mode = cell.mode ?? spec.numaTune?.mode;
    args.push('-object', backendOpts(spec, id, cell.memoryMiB, hostNodes, mode));
    const cpus: OptEntry[] = cpuRanges(cell.vcpus).map((r) => ['cpus', r]);
    args.push('-numa', formatOpts('node', [['nodeid', cell.id], ...cpus, ['memdev', id]]));
  }
  if (spec.memoryBacking.locked) args.push('-overcommit', 'mem-lock=on');
  return args;
}

function backendOpts(
  spec: DomainSpec,
  id: string,
  sizeMiB: number,
  hostNodes: CpuSet | undefined,
  mode: NumaMode | undefined,
): string {
  const { hugepages, prealloc } = spec.memoryBacking;
  const bound = hostNodes !== undefined && hostNodes.length > 0;
  const entries: OptEntry[] = [
    ['id', id],
    ...(hugepages === undefined ? [] : ([['mem-path', hugepages.path ?? DEFAULT_HUGEPAGES_PATH]] as const)),
    ['size', `${sizeMiB}M`],
    ['prealloc', prealloc ? true : undefined],
    ...(bound ? cpuRanges(hostNodes).map((r): OptEntry => ['host-nodes', r]) : []),
    ['policy', bound ? POLICY[mode ?? 'strict'] : undefined],
  ];
  return formatOpts(hugepages === undefined ? 'memory-backend-ram' : 'memory-backend-file', entries);
}

/** [0,1,2,5] → ["0-2", "5"]: QEMU takes repeated `cpus=`/`host-nodes=` keys, each a number or a range. */
export function cpuRanges(set: CpuSet): string[] {
  const sorted = [...new Set(set)].sort((a, b) => a - b);
  const out: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i] as number;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) end = sorted[++i] as number;
    out.push(start === end ? String(start) : `${start}-${end}`);
    i++;
  }
  return out;
}
