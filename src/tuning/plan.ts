/**
 * The tuning plan, pure: which QEMU thread gets which host CPUs and scheduler, the memlock limit, and the
 * CPU set to isolate. Built from the DomainSpec, the thread ids QEMU reported over QMP and the host
 * topology; applied by apply.ts.
 *
 * Thread classes: vCPU threads (`query-cpus-fast` thread-id), iothreads (`query-iothreads` thread-id), and
 * the emulator: every other thread of the process (main loop, RCU, workers...).
 * With isolation, the isolated set is every explicitly (or automatically) pinned CPU, and threads without
 * a pin of their own run on that whole set: the VM's threads stay on the VM's CPUs.
 */
import { ConfigError, type Problem } from '../errors.js';
import type { DomainSpec, ThreadSched } from '../model/domain.js';
import type { HostTopology } from '../host/topology.js';
import { autoPlace } from './auto-place.js';
import { isolationOf, validateTuning } from './validate.js';

export { autoPlace } from './auto-place.js';
export type { VcpuPlacement } from './auto-place.js';
export { describePlan } from './describe.js';

export interface QemuThreads {
  vcpus: { index: number; tid: number; socket?: number; core?: number; thread?: number }[];
  iothreads: { id: string; tid: number }[];
  /** every tid of the process */
  all: number[];
}

export interface ThreadAction {
  tid: number;
  role: 'vcpu' | 'iothread' | 'emulator';
  /** "vCPU 0", "iothread io0", "emulator tid 1234" */
  label: string;
  cpus?: number[];
  sched?: ThreadSched;
}

export interface TuningPlan {
  threads: ThreadAction[];
  rlimitMemlock?: 'unlimited' | number;
  isolate?: { cpus: number[] };
}

/** True when the spec asks for anything applyTuning() does. */
export function needsTuning(spec: DomainSpec): boolean {
  const t = spec.tuning;
  return (
    t.autoPin ||
    t.vcpuPins.length > 0 ||
    t.emulatorPin !== undefined ||
    t.iothreadPins.length > 0 ||
    t.vcpuSched !== undefined ||
    t.emulatorSched !== undefined ||
    t.iothreadSched !== undefined ||
    t.rlimitMemlock !== undefined ||
    t.isolate
  );
}

function action(
  tid: number,
  role: ThreadAction['role'],
  label: string,
  cpus: readonly number[] | undefined,
  sched: ThreadSched | undefined,
): ThreadAction {
  const a: ThreadAction = { tid, role, label };
  if (cpus !== undefined) a.cpus = [...cpus];
  if (sched !== undefined) a.sched = sched.priority === undefined ? { policy: sched.policy } : { policy: sched.policy, priority: sched.priority };
  return a;
}

/**
 * The plan for `spec` on this host with these QEMU threads. Throws ConfigError (code InvalidConfig) with
 * every problem: pins to CPUs that do not exist or are offline (naming the vCPU and the CPU), bad
 * priorities, pins of vCPUs or iothreads QEMU did not report. `exclude`: CPUs pinned by other VMs, avoided
 * by automatic placement.
 */
export function planTuning(
  spec: DomainSpec,
  threads: QemuThreads,
  topo: HostTopology,
  opts: { exclude?: number[] } = {},
): TuningPlan {
  const t = spec.tuning;
  const first = validateTuning(spec, topo);
  if (first.length > 0) throw new ConfigError(first);
  const vcpuPins = t.autoPin ? autoPlace(spec.cpu, topo, opts.exclude === undefined ? {} : { exclude: opts.exclude }) : t.vcpuPins;
  const problems: Problem[] = t.autoPin && t.isolate ? validateTuning(spec, topo, { vcpuPins }) : [];

  const vcpuByIndex = new Map(threads.vcpus.map((v) => [v.index, v]));
  vcpuPins.forEach((p, i) => {
    // A vCPU that starts unplugged (index >= vcpus, below max_vcpus) is pinned when it is hot-added.
    if (!vcpuByIndex.has(p.vcpu) && p.vcpu < spec.cpu.vcpus) {
      problems.push({
        path: t.autoPin ? 'tuning.autoPin' : `tuning.vcpuPins[${i}].vcpu`,
        message: `vCPU ${p.vcpu} is pinned but QEMU reported no thread for it (it reported vCPUs ${threads.vcpus.map((v) => v.index).join(', ') || 'none'})`,
        found: String(p.vcpu),
      });
    }
  });
  const ioById = new Map(threads.iothreads.map((io) => [io.id, io]));
  t.iothreadPins.forEach((p, i) => {
    if (!ioById.has(p.iothread)) {
      problems.push({
        path: `tuning.iothreadPins[${i}].iothread`,
        message: `iothread '${p.iothread}' is pinned but QEMU reported no such iothread (it reported ${threads.iothreads.map((io) => io.id).join(', ') || 'none'})`,
        found: p.iothread,
      });
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);

  // Implied isolation that would leave the host no CPU is left out (checkTuning() warned about it).
  const isolated = isolationOf(spec, topo, vcpuPins).cpus;
  const pinOf = new Map(vcpuPins.map((p) => [p.vcpu, p.cpus]));
  const ioPinOf = new Map(t.iothreadPins.map((p) => [p.iothread, p.cpus]));
  const out: ThreadAction[] = [];
  const keep = (a: ThreadAction): void => {
    if (a.cpus !== undefined || a.sched !== undefined) out.push(a);
  };
  for (const v of [...threads.vcpus].sort((a, b) => a.index - b.index)) {
    keep(action(v.tid, 'vcpu', `vCPU ${v.index}`, pinOf.get(v.index) ?? isolated, t.vcpuSched));
  }
  for (const io of threads.iothreads) {
    keep(action(io.tid, 'iothread', `iothread ${io.id}`, ioPinOf.get(io.id) ?? isolated, t.iothreadSched));
  }
  const special = new Set([...threads.vcpus.map((v) => v.tid), ...threads.iothreads.map((io) => io.tid)]);
  for (const tid of [...new Set(threads.all)].sort((a, b) => a - b)) {
    if (special.has(tid)) continue;
    keep(action(tid, 'emulator', `emulator tid ${tid}`, t.emulatorPin ?? isolated, t.emulatorSched));
  }

  const plan: TuningPlan = { threads: out };
  if (t.rlimitMemlock !== undefined) plan.rlimitMemlock = t.rlimitMemlock;
  if (isolated !== undefined) plan.isolate = { cpus: isolated };
  return plan;
}
