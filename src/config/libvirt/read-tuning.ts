/**
 * `<cputune>`: vcpupin, emulatorpin, iothreadpin (cpusets like `1-4,^2`), vcpusched, iothreadsched,
 * emulatorsched. As in libvirt, `<vcpu cpuset>` pins every vCPU, the emulator and every iothread that has
 * no pin of its own. Pure.
 */
import { formatCpuSet } from '../../util/cpu-set.js';
import { child } from '../pointer.js';
import { put, type DraftSched, type ReadState } from './draft.js';
import type { VcpuFacts } from './read-compute.js';
import type { VmkitMeta } from './read-metadata.js';
import { cpuSetAttr, enumAttr, intAttr, requireAttr } from './read-values.js';
import type { XmlElement } from './xml-tree.js';

const BANDWIDTH = ['shares', 'period', 'quota', 'global_period', 'global_quota', 'emulator_period', 'emulator_quota', 'iothread_period', 'iothread_quota'];

export function readCputune(state: ReadState, facts: VcpuFacts, meta: VmkitMeta): void {
  const { ctx, root, draft } = state;
  const vcpus = state.vcpus ?? 1;
  const ct = ctx.child(root, 'cputune');
  const tuning = (draft.tuning ??= {});
  const auto = tuning.pinning === 'auto';
  const vcpuPins: Record<string, string> = {};
  const iothreadPins: Record<string, string> = {};
  let emulator: string | undefined;
  const pinAt = '/tuning/pinning';

  if (ct !== undefined) {
    for (const name of BANDWIDTH) {
      for (const el of ctx.children(ct, name)) ctx.unsupported(el, `CPU bandwidth control (<${name}>) is not supported yet; use pinning and scheduler policies`);
    }
    for (const pin of ctx.children(ct, 'vcpupin')) {
      const vcpu = intAttr(ctx, pin, 'vcpu', { min: 0 });
      const cpuset = requireAttr(ctx, pin, 'cpuset', 'host CPUs like "1-4,^2"');
      if (vcpu === undefined || cpuset === undefined) {
        if (ctx.attr(pin, 'vcpu') === undefined) ctx.error({ el: pin, attr: 'vcpu' }, '<vcpupin> needs vcpu, the vCPU number');
        continue;
      }
      if (vcpu >= vcpus) {
        ctx.error({ el: pin, attr: 'vcpu' }, `vCPU ${vcpu} does not exist: the guest has ${vcpus} vCPU(s), numbered 0-${vcpus - 1}`, { found: String(vcpu) });
        continue;
      }
      if (vcpuPins[String(vcpu)] !== undefined) {
        ctx.error({ el: pin, attr: 'vcpu' }, `vCPU ${vcpu} is already pinned by an earlier <vcpupin>`);
        continue;
      }
      vcpuPins[String(vcpu)] = put(state, child(child(pinAt, 'vcpus'), vcpu), { el: pin, attr: 'cpuset' }, cpuset);
    }
    const ep = ctx.child(ct, 'emulatorpin');
    if (ep !== undefined) {
      const cpuset = requireAttr(ctx, ep, 'cpuset', 'host CPUs like "1-3"');
      if (cpuset !== undefined) emulator = put(state, child(pinAt, 'emulator'), { el: ep, attr: 'cpuset' }, cpuset);
    }
    for (const pin of ctx.children(ct, 'iothreadpin')) {
      const id = intAttr(ctx, pin, 'iothread', { min: 1 });
      const cpuset = requireAttr(ctx, pin, 'cpuset', 'host CPUs like "5,6"');
      if (id === undefined || cpuset === undefined) {
        if (ctx.attr(pin, 'iothread') === undefined) ctx.error({ el: pin, attr: 'iothread' }, '<iothreadpin> needs iothread, the iothread id');
        continue;
      }
      const name = iothreadName(state, pin, id);
      if (name === undefined) continue;
      if (iothreadPins[name] !== undefined) {
        ctx.error({ el: pin, attr: 'iothread' }, `iothread ${id} is already pinned by an earlier <iothreadpin>`);
        continue;
      }
      iothreadPins[name] = put(state, child(child(pinAt, 'iothreads'), name), { el: pin, attr: 'cpuset' }, cpuset);
    }
    readSchedulers(state, ct, meta);
  }
  readOtherSchedulers(state, meta);

  const explicit = Object.keys(vcpuPins).length + Object.keys(iothreadPins).length + (emulator === undefined ? 0 : 1) > 0;
  if (auto && (explicit || facts.defaultCpus !== undefined)) {
    ctx.error(ct ?? facts.defaultCpus?.at ?? root, "vmkit metadata says pinning='auto' (vmkit computes the pins), so the domain may not pin threads itself; remove one or the other");
    return;
  }
  const d = facts.defaultCpus;
  if (d !== undefined) {
    const at = { el: d.at, attr: 'cpuset' };
    for (let v = 0; v < vcpus; v++) {
      if (vcpuPins[String(v)] === undefined) vcpuPins[String(v)] = put(state, child(child(pinAt, 'vcpus'), v), at, d.text);
    }
    if (emulator === undefined) emulator = put(state, child(pinAt, 'emulator'), at, d.text);
    for (const name of state.iothreadNames.values()) {
      if (iothreadPins[name] === undefined) iothreadPins[name] = put(state, child(child(pinAt, 'iothreads'), name), at, d.text);
    }
  }
  if (auto) return;
  // In the order the iothreads are declared, whichever pin came first.
  const ioOrdered = Object.fromEntries([...state.iothreadNames.values()].filter((n) => iothreadPins[n] !== undefined).map((n) => [n, iothreadPins[n] as string]));
  if (Object.keys(vcpuPins).length + Object.keys(ioOrdered).length > 0 || emulator !== undefined) {
    tuning.pinning = {
      ...(Object.keys(vcpuPins).length === 0 ? {} : { vcpus: vcpuPins }),
      ...(emulator === undefined ? {} : { emulator }),
      ...(Object.keys(ioOrdered).length === 0 ? {} : { iothreads: ioOrdered }),
    };
    if (ct !== undefined) ctx.map(pinAt, ct);
  }
}

function iothreadName(state: ReadState, el: XmlElement, id: number, attr = 'iothread'): string | undefined {
  const name = state.iothreadNames.get(id);
  if (name === undefined) {
    const ids = [...state.iothreadNames.keys()];
    state.ctx.error({ el, attr }, `There is no iothread ${id}${ids.length === 0 ? ': the domain has no <iothreads>' : ''}`, {
      expected: ids.length === 0 ? 'an iothread declared in <iothreads>' : `one of ${formatCpuSet(ids.sort((a, b) => a - b))}`,
      found: String(id),
    });
  }
  return name;
}

const POLICIES = ['batch', 'idle', 'fifo', 'rr'] as const;

function sched(state: ReadState, el: XmlElement, pointer: string): DraftSched | undefined {
  const { ctx } = state;
  const policy = enumAttr(ctx, el, 'scheduler', POLICIES);
  const priority = intAttr(ctx, el, 'priority', { min: 0, max: 99 });
  if (policy === undefined) {
    if (ctx.attr(el, 'scheduler') === undefined) ctx.error({ el, attr: 'scheduler' }, `<${el.name}> needs scheduler`, { expected: POLICIES.join(', ') });
    ctx.claim(pointer);
    return undefined;
  }
  ctx.map(pointer, el);
  ctx.map(child(pointer, 'policy'), { el, attr: 'scheduler' });
  ctx.map(child(pointer, 'priority'), { el, attr: ctx.attr(el, 'priority') === undefined ? 'scheduler' : 'priority' });
  return { policy, ...(priority === undefined ? {} : { priority }) };
}

function readSchedulers(state: ReadState, ct: XmlElement, meta: VmkitMeta): void {
  const { ctx, draft } = state;
  const scheduler: NonNullable<NonNullable<typeof draft.tuning>['scheduler']> = {};
  const vs = ctx.children(ct, 'vcpusched');
  vs.forEach((el, i) => {
    if (i > 0) {
      ctx.unsupported(el, 'Different scheduler policies for different vCPUs are not supported yet; give one <vcpusched> for all vCPUs');
      return;
    }
    const set = cpuSetAttr(ctx, el, 'vcpus');
    const vcpus = state.vcpus ?? 1;
    if (set !== undefined && set.length !== vcpus) {
      ctx.drop({ el, attr: 'vcpus' }, `A scheduler policy for some vCPUs only is not supported yet; it must cover all ${vcpus} vCPUs (vcpus='0-${vcpus - 1}', or no vcpus attribute)`);
      return;
    }
    if (meta.schedOther.has('vcpus')) ctx.error(el, "vmkit metadata already gives the vCPUs the scheduler 'other'; remove one");
    const s = sched(state, el, '/tuning/scheduler/vcpus');
    if (s !== undefined) scheduler.vcpus = s;
  });
  const is = ctx.children(ct, 'iothreadsched');
  is.forEach((el, i) => {
    if (i > 0) {
      ctx.unsupported(el, 'Different scheduler policies for different iothreads are not supported yet; give one <iothreadsched> for all iothreads');
      return;
    }
    const ids = [...state.iothreadNames.keys()];
    if (ids.length === 0) {
      ctx.error(el, 'There are no iothreads to schedule; add <iothreads> or remove this');
      ctx.useAll(el);
      return;
    }
    const set = cpuSetAttr(ctx, el, 'iothreads');
    if (set !== undefined && !(set.length === ids.length && ids.every((id) => set.includes(id)))) {
      ctx.drop({ el, attr: 'iothreads' }, `A scheduler policy for some iothreads only is not supported yet; it must cover every iothread (${formatCpuSet([...ids].sort((a, b) => a - b))}), or leave out iothreads`);
      return;
    }
    if (meta.schedOther.has('iothreads')) ctx.error(el, "vmkit metadata already gives the iothreads the scheduler 'other'; remove one");
    const s = sched(state, el, '/tuning/scheduler/iothreads');
    if (s !== undefined) scheduler.iothreads = s;
  });
  const es = ctx.child(ct, 'emulatorsched');
  if (es !== undefined) {
    if (meta.schedOther.has('emulator')) ctx.error(es, "vmkit metadata already gives the emulator threads the scheduler 'other'; remove one");
    const s = sched(state, es, '/tuning/scheduler/emulator');
    if (s !== undefined) scheduler.emulator = s;
  }
  if (Object.keys(scheduler).length > 0) {
    const t = (draft.tuning ??= {});
    t.scheduler = { ...t.scheduler, ...scheduler };
  }
}

/** SCHED_OTHER set explicitly (vmkit metadata), which libvirt's schedulers cannot say. */
function readOtherSchedulers(state: ReadState, meta: VmkitMeta): void {
  const t = (state.draft.tuning ??= {});
  for (const [group, el] of meta.schedOther) {
    const current = t.scheduler?.[group];
    if (current !== undefined) continue;
    if (group === 'iothreads' && state.iothreadNames.size === 0) {
      state.ctx.error({ el, attr: 'iothread-scheduler' }, 'There are no iothreads to schedule; add <iothreads> or remove this');
      continue;
    }
    state.ctx.map(`/tuning/scheduler/${group}`, el);
    t.scheduler = { ...t.scheduler, [group]: { policy: 'other' } };
  }
}

export { iothreadName };
