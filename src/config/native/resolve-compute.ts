/** Native YAML: machine, CPU topology, memory, memory backing and NUMA. Pure. */
import type { CpuSpec, MachineSpec, MemoryBackingSpec, NumaCellSpec, NumaTuneSpec } from '../../model/domain.js';
import { formatCpuSet } from '../../util/cpu-set.js';
import { child } from '../pointer.js';
import type { Loose, ResolveContext } from '../resolve-context.js';
import type { CpuInput, MachineInput, MemoryBackingInput, NumaCellInput, NumaInput } from './schema.js';
import type { Static } from '@sinclair/typebox';

export const DEFAULT_MACHINE_TYPE = 'q35';
export const DEFAULT_MEMORY_MIB = 256;
export const MIN_MEMORY_MIB = 16;

export function resolveMachine(input: Loose<Static<typeof MachineInput>> | undefined): MachineSpec {
  if (typeof input === 'string') return { type: input, accel: 'auto' };
  return { type: input?.type ?? DEFAULT_MACHINE_TYPE, accel: input?.accel ?? 'auto' };
}

/**
 * Fills the topology like QEMU does when it prefers cores: sockets=1, threads=1, cores=vcpus/(sockets*threads);
 * without vcpus, vcpus = sockets*cores*threads. Reports a topology that does not multiply out to vcpus.
 */
export function resolveCpu(input: Loose<Static<typeof CpuInput>> | undefined, ctx: ResolveContext, at = '/cpu'): CpuSpec {
  const topo = resolveTopology(input?.max_vcpus === undefined ? input : { ...input, vcpus: input.max_vcpus }, ctx, at);
  const max = input?.max_vcpus;
  let vcpus = topo.vcpus;
  if (max !== undefined) {
    vcpus = input?.vcpus ?? max;
    if (vcpus > max && !ctx.broken(at)) {
      ctx.problems.add(child(at, 'vcpus'), { message: `vcpus (${vcpus}) is more than max_vcpus (${max})`, expected: `at most ${max}`, found: String(vcpus) });
    }
  }
  const features = Object.entries(input?.features ?? {})
    .filter((e): e is [string, boolean] => typeof e[1] === 'boolean')
    .map(([name, enabled]) => ({ name, enabled }));
  if (features.length > 0 && input?.model === undefined && !ctx.broken(at)) {
    ctx.problems.add(child(at, 'features'), { message: 'CPU features are switched on top of a CPU model: set cpu.model (e.g. host, max or qemu64)', expected: 'cpu.model' });
  }
  return {
    ...topo,
    vcpus,
    ...(max === undefined || max === vcpus ? {} : { maxVcpus: max }),
    ...(features.length === 0 ? {} : { features }),
  };
}

function resolveTopology(input: Loose<Static<typeof CpuInput>> | undefined, ctx: ResolveContext, at: string): CpuSpec {
  const sockets = input?.sockets ?? 1;
  const threads = input?.threads ?? 1;
  let vcpus = input?.vcpus;
  let cores = input?.cores;
  if (vcpus === undefined) {
    cores ??= 1;
    vcpus = sockets * cores * threads;
  } else if (cores === undefined) {
    cores = Math.max(1, Math.floor(vcpus / (sockets * threads)));
    if (vcpus % (sockets * threads) !== 0 && !ctx.broken(at)) {
      ctx.problems.add(child(at, 'vcpus'), {
        message: `${vcpus} vCPUs cannot be split into ${sockets} socket(s) of ${threads} thread(s) per core; set cores, or change sockets/threads`,
        expected: `a multiple of sockets*threads = ${sockets * threads}`,
        found: String(vcpus),
      });
    }
  }
  const splitFailed = input?.cores === undefined && vcpus % (sockets * threads) !== 0;
  if (sockets * cores * threads !== vcpus && !splitFailed && !ctx.broken(at)) {
    ctx.problems.add(at, {
      message: `The topology does not match the vCPU count: sockets*cores*threads = ${sockets}*${cores}*${threads} = ${sockets * cores * threads}, but vcpus = ${vcpus}`,
      expected: `sockets*cores*threads = ${vcpus}`,
      found: String(sockets * cores * threads),
    });
  }
  return { ...(input?.model === undefined ? {} : { model: input.model }), vcpus, sockets, cores, threads };
}

export function resolveMemoryBacking(
  input: Loose<Static<typeof MemoryBackingInput>> | undefined,
  memoryMiB: number,
  ctx: ResolveContext,
): MemoryBackingSpec {
  const at = '/memory_backing';
  let hugepages: MemoryBackingSpec['hugepages'];
  const h = input?.hugepages;
  if (h === true) {
    hugepages = {};
  } else if (h !== undefined && h !== false) {
    let pageSizeKiB: number | undefined;
    const hp = child(at, 'hugepages');
    if (h.page_size !== undefined) {
      const bytes = ctx.sizeBytes(h.page_size, child(hp, 'page_size'));
      if (bytes !== undefined) {
        const valid = bytes > 4096 && bytes % 4096 === 0 && (bytes & (bytes - 1)) === 0;
        if (!valid || !Number.isSafeInteger(bytes)) {
          ctx.problems.add(child(hp, 'page_size'), {
            message: 'A hugepage size must be a power of two larger than 4K',
            expected: '"2M" or "1G" on x86_64',
            found: JSON.stringify(h.page_size),
          });
        } else {
          pageSizeKiB = bytes / 1024;
          if ((memoryMiB * 1024) % pageSizeKiB !== 0 && !ctx.broken('/memory')) {
            ctx.problems.add(child(hp, 'page_size'), {
              message: `Guest memory (${memoryMiB} MiB) must be a multiple of the hugepage size`,
              expected: `memory divisible by ${JSON.stringify(h.page_size)}`,
              found: `${memoryMiB}M`,
            });
          }
        }
      }
    }
    hugepages = {
      ...(pageSizeKiB === undefined ? {} : { pageSizeKiB }),
      ...(h.path === undefined ? {} : { path: ctx.path(h.path) }),
    };
  }
  return {
    ...(hugepages === undefined ? {} : { hugepages }),
    prealloc: input?.prealloc ?? false,
    locked: input?.locked ?? false,
  };
}

export function resolveNumaTune(input: Loose<Static<typeof NumaInput>> | undefined, ctx: ResolveContext): NumaTuneSpec | undefined {
  if (input === undefined) return undefined;
  const hostNodes = ctx.cpus(input.nodes, '/numa/nodes');
  if (hostNodes === undefined) return undefined;
  return { mode: input.mode ?? 'strict', hostNodes };
}

/** Guest NUMA cells: memory adds up to the guest's, every vCPU in exactly one cell. */
export function resolveNumaCells(
  input: Loose<readonly (Static<typeof NumaCellInput> | undefined)[]> | undefined,
  cpu: CpuSpec,
  memoryMiB: number,
  ctx: ResolveContext,
): NumaCellSpec[] {
  if (input === undefined) return [];
  const cells: NumaCellSpec[] = [];
  const owner = new Map<number, number>();
  let total = 0;
  let complete = true;
  const all = cpu.maxVcpus ?? cpu.vcpus;
  input.forEach((c, id) => {
    const at = child('/numa_cells', id);
    if (c === undefined) {
      complete = false;
      return;
    }
    const vcpus = ctx.cpus(c.vcpus, child(at, 'vcpus'));
    const mem = ctx.sizeMiB(c.memory, child(at, 'memory'), { minMiB: 1 });
    const hostNodes = ctx.cpus(c.host_nodes, child(at, 'host_nodes'));
    if (vcpus === undefined || mem === undefined) complete = false;
    total += mem ?? 0;
    for (const v of vcpus ?? []) {
      if (v >= all) {
        if (!ctx.broken('/cpu')) {
          ctx.problems.add(child(at, 'vcpus'), {
            message: `vCPU ${v} does not exist: the guest has ${all} vCPU(s), numbered 0-${all - 1}`,
            found: JSON.stringify(c.vcpus),
          });
        }
      } else if (owner.has(v)) {
        ctx.problems.add(child(at, 'vcpus'), { message: `vCPU ${v} is already in NUMA cell ${owner.get(v)}; each vCPU belongs to exactly one cell`, found: JSON.stringify(c.vcpus) });
      } else {
        owner.set(v, id);
      }
    }
    cells.push({
      id,
      vcpus: vcpus ?? [],
      memoryMiB: mem ?? 0,
      ...(hostNodes === undefined ? {} : { hostNodes }),
      ...(c.mode === undefined ? {} : { mode: c.mode }),
    });
  });
  if (complete && !ctx.broken('/cpu')) {
    const missing = Array.from({ length: all }, (_, i) => i).filter((v) => !owner.has(v));
    if (missing.length > 0) {
      ctx.problems.add('/numa_cells', { message: `vCPU(s) ${formatCpuSet(missing)} are in no NUMA cell; every vCPU must be in exactly one cell`, at: 'key' });
    }
  }
  if (complete && !ctx.broken('/memory') && total !== memoryMiB) {
    ctx.problems.add('/numa_cells', {
      message: `The cells' memory adds up to ${total} MiB, but the guest has ${memoryMiB} MiB`,
      expected: `a total of ${memoryMiB} MiB`,
      found: `${total} MiB`,
      at: 'key',
    });
  }
  return cells;
}
