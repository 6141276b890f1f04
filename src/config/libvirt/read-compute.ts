/**
 * `<vcpu>`, `<cpu>` (mode, model, topology, NUMA cells), `<memory>`/`<currentMemory>`, `<memoryBacking>`,
 * `<numatune>`, `<iothreads>`/`<iothreadids>`. libvirt's meanings are kept: memory in KiB unless
 * `unit=` says otherwise and rounded up to whole MiB (as libvirt aligns it on x86); without `<topology>`
 * every vCPU is its own socket; with NUMA cells the guest's memory is the sum of the cells'. Pure.
 */
import { formatCpuSet } from '../../util/cpu-set.js';
import { child } from '../pointer.js';
import { formatSize } from '../size.js';
import { put, type DraftCell, type ReadState } from './draft.js';
import type { VmkitMeta } from './read-metadata.js';
import { cpuSetAttr, enumAttr, intAttr, readBytes, readInt, requireAttr } from './read-values.js';
import { ceilMiB } from './units.js';
import type { XmlElement } from './xml-tree.js';

const MAX_VCPUS = 1024;

export interface VcpuFacts {
  /** `<vcpu cpuset>`: host CPUs for every vCPU, emulator and iothread thread not pinned explicitly. */
  readonly defaultCpus?: { readonly cpus: readonly number[]; readonly text: string; readonly at: XmlElement };
}

export function readVcpu(state: ReadState): VcpuFacts {
  const { ctx, root, draft } = state;
  const v = ctx.child(root, 'vcpu');
  let vcpus = 1;
  let defaultCpus: VcpuFacts['defaultCpus'];
  if (v !== undefined) {
    vcpus = readInt(ctx, { el: v, text: true }, ctx.text(v), { min: 1, max: MAX_VCPUS }) ?? 1;
    const placement = enumAttr(ctx, v, 'placement', ['static', 'auto']);
    if (placement === 'auto') {
      ctx.unsupported({ el: v, attr: 'placement' }, "placement='auto' asks numad for a placement, which vmkit does not do; use placement='static' with <cputune> pins", {
        found: "placement='auto'",
      });
    }
    const current = intAttr(ctx, v, 'current', { min: 1, max: MAX_VCPUS });
    if (current !== undefined && current > vcpus) {
      ctx.error({ el: v, attr: 'current' }, `current=${current} is more than the ${vcpus} vCPUs of <vcpu>`, { expected: `at most ${vcpus}`, found: String(current) });
    } else if (current !== undefined && current < vcpus) {
      // <vcpu current='N'>M</vcpu>: N vCPUs online, M possible (-smp N,maxcpus=M); the topology covers M.
      state.maxVcpus = vcpus;
      vcpus = current;
      ctx.map('/cpu/max_vcpus', { el: v, text: true });
    }
    const cpus = cpuSetAttr(ctx, v, 'cpuset');
    if (cpus !== undefined) defaultCpus = { cpus, text: formatCpuSet(cpus), at: v };
  }
  state.vcpus = vcpus;
  draft.cpu = {
    ...draft.cpu,
    vcpus: put(state, '/cpu/vcpus', v === undefined ? root : state.maxVcpus === undefined ? { el: v, text: true } : { el: v, attr: 'current' }, vcpus),
    ...(state.maxVcpus === undefined ? {} : { max_vcpus: state.maxVcpus }),
  };
  if (v !== undefined) state.ctx.map('/cpu', v);
  return defaultCpus === undefined ? {} : { defaultCpus };
}

/** `<cpu>`: host-passthrough and host-model -> `host`, maximum -> `max`, custom -> its `<model>`. */
export function readCpu(state: ReadState): void {
  const { ctx, root, draft } = state;
  const vcpus = state.vcpus ?? 1;
  const cpu = ctx.child(root, 'cpu');
  // libvirt gives every possible vCPU its own socket unless <topology> says otherwise.
  const topo = { sockets: state.maxVcpus ?? vcpus, cores: 1, threads: 1 };
  const features: Record<string, boolean> = {};
  let model: string | undefined;
  if (cpu !== undefined) {
    const mode = enumAttr(ctx, cpu, 'mode', ['custom', 'host-model', 'host-passthrough', 'maximum']) ?? 'custom';
    enumAttr(ctx, cpu, 'match', ['minimum', 'exact', 'strict']);
    enumAttr(ctx, cpu, 'check', ['none', 'partial', 'full']);
    const migratable = enumAttr(ctx, cpu, 'migratable', ['on', 'off']);
    if (migratable === 'off') ctx.unsupported({ el: cpu, attr: 'migratable' }, "migratable='off' is not supported yet (QEMU's -cpu host is migratable)");
    const m = ctx.child(cpu, 'model');
    if (mode === 'host-passthrough' || mode === 'host-model') model = 'host';
    else if (mode === 'maximum') model = 'max';
    if (m !== undefined) {
      enumAttr(ctx, m, 'fallback', ['allow', 'forbid']);
      if (mode === 'custom') {
        model = put(state, '/cpu/model', { el: m, text: true }, ctx.text(m));
      } else {
        ctx.unsupported(m, `<model> only applies to mode='custom'; with mode='${mode}' remove it`);
      }
    }
    readCpuFeatures(state, cpu, features);
    if (Object.keys(features).length > 0) {
      ctx.map('/cpu/features', cpu);
      if (mode === 'custom' && m === undefined) {
        ctx.error(cpu, "CPU <feature> flags are switched on top of a CPU model: add <model> (e.g. qemu64), or use mode='host-passthrough'");
        ctx.claim('/cpu/features');
      }
    }
    const t = ctx.child(cpu, 'topology');
    if (t !== undefined) {
      ctx.map('/cpu', t);
      const range = { min: 1, max: MAX_VCPUS };
      const sockets = intAttr(ctx, t, 'sockets', range);
      const cores = intAttr(ctx, t, 'cores', range);
      const threads = intAttr(ctx, t, 'threads', range);
      for (const level of ['dies', 'clusters'] as const) {
        const n = intAttr(ctx, t, level, range);
        if (n !== undefined && n !== 1) ctx.unsupported({ el: t, attr: level }, `${level}=${n} is not supported yet; vmkit topologies have sockets, cores and threads only`);
      }
      if (sockets !== undefined) topo.sockets = put(state, '/cpu/sockets', { el: t, attr: 'sockets' }, sockets);
      if (cores !== undefined) topo.cores = put(state, '/cpu/cores', { el: t, attr: 'cores' }, cores);
      if (threads !== undefined) topo.threads = put(state, '/cpu/threads', { el: t, attr: 'threads' }, threads);
    }
    const numa = ctx.child(cpu, 'numa');
    if (numa !== undefined) readCells(state, numa);
  }
  draft.cpu = {
    ...(model === undefined ? {} : { model }),
    vcpus,
    ...topo,
    ...(state.maxVcpus === undefined ? {} : { max_vcpus: state.maxVcpus }),
    ...(Object.keys(features).length === 0 ? {} : { features }),
  };
}

/**
 * `<feature policy name>`: require and force switch the flag on, disable and forbid switch it off (forbid's
 * extra check that the host lacks the flag is not made: the guest never sees it either way). `optional`
 * asks libvirt to decide from the host CPU, which vmkit does not do, so it is reported.
 */
function readCpuFeatures(state: ReadState, cpu: XmlElement, out: Record<string, boolean>): void {
  const { ctx } = state;
  for (const f of ctx.children(cpu, 'feature')) {
    const policy = enumAttr(ctx, f, 'policy', ['force', 'require', 'optional', 'disable', 'forbid']);
    const name = requireAttr(ctx, f, 'name', 'a CPU feature name like vmx');
    if (name === undefined || policy === undefined) {
      if (ctx.attr(f, 'policy') === undefined) ctx.error({ el: f, attr: 'policy' }, '<feature> needs policy', { expected: 'require, force, disable or forbid' });
      continue;
    }
    if (policy === 'optional') {
      ctx.unsupported({ el: f, attr: 'policy' }, "policy='optional' lets libvirt decide from the host CPU, which vmkit does not do; use require or disable", { found: policy });
      continue;
    }
    if (name in out) {
      ctx.error({ el: f, attr: 'name' }, `The CPU feature ${name} is listed twice`);
      continue;
    }
    ctx.map(`/cpu/features/${name}`, { el: f, attr: 'name' });
    out[name] = policy === 'require' || policy === 'force';
  }
}

function readCells(state: ReadState, numa: XmlElement): void {
  const { ctx, draft } = state;
  ctx.map('/numa_cells', numa);
  const cells: DraftCell[] = [];
  ctx.children(numa, 'cell').forEach((cell, i) => {
    const at = child('/numa_cells', i);
    ctx.map(at, cell);
    const id = intAttr(ctx, cell, 'id', { min: 0 });
    if (id !== undefined && id !== i) {
      ctx.error({ el: cell, attr: 'id' }, `NUMA cell ids must be 0, 1, 2, ... in document order; this is cell ${i}`, { expected: String(i), found: String(id) });
    }
    const cpus = requireAttr(ctx, cell, 'cpus', 'the vCPUs of this cell, like "0-1"');
    const bytes = readBytes(ctx, cell, { defaultUnit: 'KiB', valueAttr: 'memory' });
    cells.push({
      ...(cpus === undefined ? {} : { vcpus: put(state, child(at, 'vcpus'), { el: cell, attr: 'cpus' }, cpus) }),
      ...(bytes === undefined ? {} : { memory: put(state, child(at, 'memory'), { el: cell, attr: 'memory' }, ceilMiB(bytes)) }),
    });
  });
  if (cells.length > 0) draft.numa_cells = cells;
}

/** `<memory>` and `<currentMemory>`; with NUMA cells libvirt takes the sum of the cells as the guest's memory. */
export function readMemory(state: ReadState): void {
  const { ctx, root, draft } = state;
  const mem = ctx.child(root, 'memory');
  let mib: number | undefined;
  if (mem !== undefined) {
    const bytes = readBytes(ctx, mem, { defaultUnit: 'KiB' });
    if (bytes !== undefined) mib = ceilMiB(bytes);
    ctx.map('/memory', { el: mem, text: true });
  }
  const cells = draft.numa_cells;
  if (cells !== undefined && cells.every((c) => c.memory !== undefined)) {
    mib = cells.reduce((sum, c) => sum + (c.memory ?? 0), 0);
  } else if (cells !== undefined) {
    // Some cell's memory is already reported; keep the native checks from adding a sum mismatch.
    ctx.claim('/numa_cells');
  }
  if (mem === undefined && cells === undefined) {
    ctx.error(root, '<memory> is missing: say how much RAM the guest has, e.g. <memory unit="MiB">512</memory>');
    ctx.claim('/memory');
  }
  if (mib !== undefined) draft.memory = mib;
  const cur = ctx.child(root, 'currentMemory');
  if (cur !== undefined) {
    const bytes = readBytes(ctx, cur, { defaultUnit: 'KiB' });
    // Below <memory>: the balloon target libvirt sets before the guest runs (it needs a <memballoon>).
    if (bytes !== undefined && mib !== undefined && ceilMiB(bytes) < mib) draft.current_memory = put(state, '/current_memory', { el: cur, text: true }, ceilMiB(bytes));
    else if (bytes !== undefined && mib !== undefined && ceilMiB(bytes) > mib) {
      ctx.error({ el: cur, text: true }, `<currentMemory> is more than <memory> (${ceilMiB(bytes)} of ${mib} MiB)`, { expected: `at most ${mib} MiB` });
    }
  }
}

export function readMemoryBacking(state: ReadState): void {
  const { ctx, root, draft } = state;
  const mb = ctx.child(root, 'memoryBacking');
  const path = state.hugepagesPath;
  if (mb === undefined) {
    if (path !== undefined) ctx.error(path.at, 'vmkit:hugepages gives a hugetlbfs path, but <memoryBacking> has no <hugepages/>');
    return;
  }
  ctx.map('/memory_backing', mb);
  const out: NonNullable<typeof draft.memory_backing> = {};
  const huge = ctx.child(mb, 'hugepages');
  if (huge !== undefined) {
    ctx.map('/memory_backing/hugepages', huge);
    const pages = ctx.children(huge, 'page');
    let pageSize: string | undefined;
    pages.forEach((page, i) => {
      if (i > 0) {
        ctx.unsupported(page, 'Several hugepage sizes per guest are not supported yet; give one <page>');
        return;
      }
      if (ctx.attr(page, 'nodeset') !== undefined) {
        ctx.unsupported({ el: page, attr: 'nodeset' }, 'Hugepages for some guest NUMA nodes only are not supported yet; remove nodeset to use them for all memory');
      }
      const bytes = readBytes(ctx, page, { defaultUnit: 'KiB', valueAttr: 'size' });
      if (bytes !== undefined) pageSize = put(state, '/memory_backing/hugepages/page_size', { el: page, attr: 'size' }, formatSize(bytes));
    });
    out.hugepages =
      pageSize === undefined && path === undefined ? true : { ...(pageSize === undefined ? {} : { page_size: pageSize }), ...(path === undefined ? {} : { path: path.path }) };
    if (path !== undefined) ctx.map('/memory_backing/hugepages/path', { el: path.at, attr: 'path' });
  } else if (path !== undefined) {
    ctx.error(path.at, 'vmkit:hugepages gives a hugetlbfs path, but <memoryBacking> has no <hugepages/>');
  }
  const locked = ctx.child(mb, 'locked');
  if (locked !== undefined) out.locked = put(state, '/memory_backing/locked', locked, true);
  const alloc = ctx.child(mb, 'allocation');
  if (alloc !== undefined) {
    const mode = enumAttr(ctx, alloc, 'mode', ['immediate', 'ondemand']);
    if (mode !== undefined) out.prealloc = put(state, '/memory_backing/prealloc', { el: alloc, attr: 'mode' }, mode === 'immediate');
  }
  draft.memory_backing = out;
}

export function readNumatune(state: ReadState): void {
  const { ctx, root, draft } = state;
  const nt = ctx.child(root, 'numatune');
  if (nt === undefined) return;
  const modes = ['strict', 'preferred', 'interleave', 'restrictive'] as const;
  const mem = ctx.child(nt, 'memory');
  if (mem !== undefined) {
    ctx.map('/numa', mem);
    const mode = enumAttr(ctx, mem, 'mode', modes);
    const placement = enumAttr(ctx, mem, 'placement', ['static', 'auto']);
    if (mode === 'restrictive') {
      ctx.drop({ el: mem, attr: 'mode' }, "mode='restrictive' (cgroup-only binding) is not supported yet; use strict, preferred or interleave");
    } else if (placement === 'auto') {
      ctx.drop({ el: mem, attr: 'placement' }, "placement='auto' asks numad for nodes, which vmkit does not do; give nodeset");
    } else {
      const nodeset = requireAttr(ctx, mem, 'nodeset', 'host NUMA nodes like "0-1"');
      if (nodeset !== undefined) {
        draft.numa = {
          ...(mode === undefined ? {} : { mode: put(state, '/numa/mode', { el: mem, attr: 'mode' }, mode) }),
          nodes: put(state, '/numa/nodes', { el: mem, attr: 'nodeset' }, nodeset),
        };
      }
    }
  }
  const seen = new Set<number>();
  for (const node of ctx.children(nt, 'memnode')) {
    const cellid = intAttr(ctx, node, 'cellid', { min: 0 });
    const mode = enumAttr(ctx, node, 'mode', modes);
    const nodeset = requireAttr(ctx, node, 'nodeset', 'host NUMA nodes like "0"');
    if (cellid === undefined) {
      if (ctx.attr(node, 'cellid') === undefined) ctx.error({ el: node, attr: 'cellid' }, '<memnode> needs cellid, the guest NUMA cell it binds');
      continue;
    }
    const cell = draft.numa_cells?.[cellid];
    if (cell === undefined) {
      ctx.error({ el: node, attr: 'cellid' }, `There is no guest NUMA cell ${cellid}; cells are defined in <cpu><numa>`, { found: String(cellid) });
      continue;
    }
    if (seen.has(cellid)) {
      ctx.error({ el: node, attr: 'cellid' }, `Cell ${cellid} already has a <memnode>`);
      continue;
    }
    seen.add(cellid);
    const at = child('/numa_cells', cellid);
    if (mode === 'restrictive') {
      ctx.drop({ el: node, attr: 'mode' }, "mode='restrictive' is not supported yet; use strict, preferred or interleave");
      continue;
    }
    // libvirt binds a cell strictly unless its <memnode> says otherwise.
    cell.mode = put(state, child(at, 'mode'), { el: node, attr: 'mode' }, mode ?? 'strict');
    if (nodeset !== undefined) cell.host_nodes = put(state, child(at, 'host_nodes'), { el: node, attr: 'nodeset' }, nodeset);
  }
}

/** `<iothreads>N</iothreads>` and `<iothreadids>`: ids 1..N unless listed; QEMU ids `iothread<id>` (as libvirt names them). */
export function readIothreads(state: ReadState, meta: VmkitMeta): void {
  const { ctx, root, draft } = state;
  const count = ctx.child(root, 'iothreads');
  const idsEl = ctx.child(root, 'iothreadids');
  let n = 0;
  if (count !== undefined) {
    n = readInt(ctx, { el: count, text: true }, ctx.text(count), { min: 0, max: 64 }) ?? 0;
    ctx.map('/iothreads', count);
  }
  const ids: number[] = [];
  for (const io of idsEl === undefined ? [] : ctx.children(idsEl, 'iothread')) {
    const id = intAttr(ctx, io, 'id', { min: 1, max: 2 ** 31 - 1 });
    if (id === undefined) {
      if (ctx.attr(io, 'id') === undefined) ctx.error({ el: io, attr: 'id' }, '<iothread> needs id, a number from 1');
      continue;
    }
    if (ids.includes(id)) {
      ctx.error({ el: io, attr: 'id' }, `iothread id ${id} is listed twice`);
      continue;
    }
    ids.push(id);
    state.iothreadAt.set(id, io);
  }
  if (idsEl !== undefined && count !== undefined && ids.length > n) {
    ctx.error(count, `<iothreadids> lists ${ids.length} iothreads, but <iothreads> says ${n}`, { expected: `${ids.length} or more`, found: String(n) });
  }
  // libvirt fills up to N with the smallest ids not listed.
  for (let next = 1; ids.length < n; next++) {
    if (!ids.includes(next)) {
      ids.push(next);
      if (count !== undefined) state.iothreadAt.set(next, count);
    }
  }
  const names: string[] = [];
  for (const id of ids) {
    const name = meta.iothreadNames.get(id)?.name ?? `iothread${id}`;
    state.iothreadNames.set(id, name);
    const at = meta.iothreadNames.get(id)?.at ?? state.iothreadAt.get(id);
    if (at !== undefined) ctx.map(child('/iothreads', names.length), at);
    names.push(name);
  }
  for (const [id, m] of meta.iothreadNames) {
    if (!state.iothreadNames.has(id)) ctx.error({ el: m.at, attr: 'id' }, `vmkit metadata names iothread ${id}, but the domain has no such iothread`);
  }
  if (names.length > 0) draft.iothreads = names;
}
