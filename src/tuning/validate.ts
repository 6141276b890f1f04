/**
 * Checks of a TuningSpec against the host, pure: every problem at once, each naming its field path, the
 * value and the fix. Host facts come in as data (topology from sysfs, limits from prlimit/capabilities),
 * so this runs before QEMU starts (see preflight.ts) and again inside planTuning().
 */
import type { Problem } from '../errors.js';
import type { CpuSet, DomainSpec, ThreadSched } from '../model/domain.js';
import type { HostTopology } from '../host/topology.js';
import { formatCpuSet, unionCpus } from '../util/cpu-set.js';

export const RT_PRIORITY_MIN = 1;
export const RT_PRIORITY_MAX = 99;

/** What this process may do, read by readHostLimits() (preflight.ts). */
export interface HostLimits {
  /** This process's RLIMIT_MEMLOCK hard limit: what it may grant QEMU without CAP_SYS_RESOURCE. */
  readonly memlockHard: number | 'unlimited';
  /** This process's RLIMIT_RTPRIO soft limit: the real-time priority it may use without CAP_SYS_NICE. */
  readonly rtprioSoft: number | 'unlimited';
  readonly capSysResource: boolean;
  readonly capSysNice: boolean;
}

function schedProblems(s: ThreadSched | undefined, path: string, limits: HostLimits | undefined): Problem[] {
  if (s === undefined) return [];
  const out: Problem[] = [];
  const rt = s.policy === 'fifo' || s.policy === 'rr';
  if (s.policy === 'deadline') {
    out.push({
      path: `${path}.policy`,
      message: "scheduler 'deadline' is not supported (it needs runtime, deadline and period parameters); use fifo or rr with a priority",
      expected: 'other, batch, idle, fifo or rr',
      found: 'deadline',
    });
  } else if (rt) {
    const p = s.priority;
    if (p === undefined) {
      out.push({ path: `${path}.priority`, message: `scheduler '${s.policy}' needs a priority`, expected: `${RT_PRIORITY_MIN}-${RT_PRIORITY_MAX}` });
    } else if (!Number.isInteger(p) || p < RT_PRIORITY_MIN || p > RT_PRIORITY_MAX) {
      out.push({ path: `${path}.priority`, message: `priority ${p} is out of range for '${s.policy}'`, expected: `an integer ${RT_PRIORITY_MIN}-${RT_PRIORITY_MAX}`, found: String(p) });
    } else if (limits !== undefined && !limits.capSysNice && limits.rtprioSoft !== 'unlimited' && p > limits.rtprioSoft) {
      out.push({
        path: `${path}.priority`,
        message: `real-time priority ${p} needs CAP_SYS_NICE (run vmkit as root) or RLIMIT_RTPRIO >= ${p}; this process may use up to ${limits.rtprioSoft}`,
        found: String(p),
      });
    }
  } else if (s.priority !== undefined && s.priority !== 0) {
    out.push({ path: `${path}.priority`, message: `a priority applies only to the fifo and rr schedulers, not '${s.policy}'; remove it`, found: String(s.priority) });
  }
  return out;
}

/** Problems with pinning `who` (e.g. `vCPU 2`) to `cpus` on this host. */
export function pinProblems(cpus: CpuSet, who: string, path: string, topo: HostTopology): Problem[] {
  if (cpus.length === 0) return [{ path, message: `${who} is pinned to an empty CPU set; name at least one host CPU`, found: "''" }];
  const byId = new Map(topo.cpus.map((c) => [c.id, c]));
  const all = formatCpuSet(topo.cpus.map((c) => c.id));
  const online = formatCpuSet(topo.cpus.filter((c) => c.online).map((c) => c.id));
  const out: Problem[] = [];
  for (const id of cpus) {
    const c = byId.get(id);
    if (c === undefined) {
      out.push({ path, message: `${who} is pinned to host CPU ${id}, which does not exist (this host has CPUs ${all})`, expected: `CPUs within ${online}`, found: formatCpuSet(cpus) });
    } else if (!c.online) {
      out.push({ path, message: `${who} is pinned to host CPU ${id}, which is offline (online CPUs: ${online}); bring it online or pin elsewhere`, expected: `CPUs within ${online}`, found: formatCpuSet(cpus) });
    }
  }
  return out;
}

/** Every CPU an explicit pin of `spec` names (vCPUs, iothreads, emulator). */
export function pinnedCpus(spec: DomainSpec, vcpuPins = spec.tuning.vcpuPins): number[] {
  const t = spec.tuning;
  return unionCpus(...vcpuPins.map((p) => p.cpus), ...t.iothreadPins.map((p) => p.cpus), t.emulatorPin ?? []);
}

/**
 * Every problem of `spec.tuning` on this host. `limits` absent: permission checks are skipped.
 * `vcpuPins`: the pins in force (defaults to the explicit ones; pass autoPlace()'s result for auto).
 */
export function validateTuning(
  spec: DomainSpec,
  topo: HostTopology,
  opts: { limits?: HostLimits; vcpuPins?: DomainSpec['tuning']['vcpuPins'] } = {},
): Problem[] {
  const t = spec.tuning;
  const limits = opts.limits;
  const out: Problem[] = [];
  if (t.autoPin && t.vcpuPins.length > 0) {
    out.push({ path: 'tuning.vcpuPins', message: 'automatic pinning and explicit vCPU pins exclude each other; remove one' });
  }
  const seen = new Set<number>();
  t.vcpuPins.forEach((p, i) => {
    const path = `tuning.vcpuPins[${i}]`;
    // vCPUs up to max_vcpus may be pinned: a hot-added one gets its pin before it runs (vmops/hotplug.ts).
    const all = spec.cpu.maxVcpus ?? spec.cpu.vcpus;
    if (!Number.isInteger(p.vcpu) || p.vcpu < 0 || p.vcpu >= all) {
      out.push({ path: `${path}.vcpu`, message: `vCPU ${p.vcpu} does not exist: the VM has ${all} vCPUs`, expected: `0-${all - 1}`, found: String(p.vcpu) });
    } else if (seen.has(p.vcpu)) {
      out.push({ path: `${path}.vcpu`, message: `vCPU ${p.vcpu} is pinned twice; keep one entry`, found: String(p.vcpu) });
    }
    seen.add(p.vcpu);
    out.push(...pinProblems(p.cpus, `vCPU ${p.vcpu}`, `${path}.cpus`, topo));
  });
  if (t.emulatorPin !== undefined) out.push(...pinProblems(t.emulatorPin, 'the emulator', 'tuning.emulatorPin', topo));
  t.iothreadPins.forEach((p, i) => {
    const path = `tuning.iothreadPins[${i}]`;
    if (!spec.iothreads.includes(p.iothread)) {
      out.push({ path: `${path}.iothread`, message: `iothread '${p.iothread}' is not defined; define it in iothreads or remove the pin`, expected: spec.iothreads.length > 0 ? spec.iothreads.join(', ') : 'an iothread id', found: p.iothread });
    }
    out.push(...pinProblems(p.cpus, `iothread ${p.iothread}`, `${path}.cpus`, topo));
  });
  out.push(...schedProblems(t.vcpuSched, 'tuning.vcpuSched', limits));
  out.push(...schedProblems(t.emulatorSched, 'tuning.emulatorSched', limits));
  out.push(...schedProblems(t.iothreadSched, 'tuning.iothreadSched', limits));

  const m = t.rlimitMemlock;
  if (m !== undefined && m !== 'unlimited' && (!Number.isSafeInteger(m) || m < 0)) {
    out.push({ path: 'tuning.rlimitMemlock', message: `memlock limit ${m} is not a byte count`, expected: "'unlimited' or a non-negative integer", found: String(m) });
  } else if (m !== undefined && limits !== undefined && !limits.capSysResource) {
    const hard = limits.memlockHard;
    const over = hard !== 'unlimited' && (m === 'unlimited' || m > hard);
    if (over) {
      out.push({
        path: 'tuning.rlimitMemlock',
        message: `memlock limit ${m} is beyond what this process may set (its hard limit is ${hard} bytes and it lacks CAP_SYS_RESOURCE); run vmkit as root or raise its hard limit`,
        found: String(m),
      });
    }
  }

  if (t.isolate) {
    const pins = opts.vcpuPins ?? t.vcpuPins;
    const isolated = pinnedCpus(spec, pins);
    if (isolated.length === 0 && !t.autoPin) {
      out.push({ path: 'tuning.isolate', message: 'isolation shields pinned CPUs, but nothing is pinned; pin vCPUs (or use automatic pinning) or turn isolation off' });
    }
    if (leavesNoHostCpu(isolated, topo) && t.isolateImplied !== true) {
      out.push({
        path: 'tuning.isolate',
        message: `isolating CPUs ${formatCpuSet(isolated)} would leave no CPU for the host's other tasks; pin the VM's threads to fewer CPUs`,
        found: formatCpuSet(isolated),
      });
    }
  }
  return out;
}

/** True when shielding `isolated` would leave no online CPU for the rest of the host. */
function leavesNoHostCpu(isolated: readonly number[], topo: HostTopology): boolean {
  return isolated.length > 0 && topo.cpus.every((c) => !c.online || isolated.includes(c.id));
}

/**
 * The CPUs to isolate for `spec` on this host (undefined: no isolation), and why isolation is left out
 * when it is: isolation implied by the format (qemu-launcher's vcpu_pinning) that would leave the host no
 * CPU degrades to pinning without the shield, with that warning. Isolation asked for is never left out
 * (validateTuning() reports it as a problem instead).
 */
export function isolationOf(
  spec: DomainSpec,
  topo: HostTopology,
  vcpuPins: DomainSpec['tuning']['vcpuPins'] = spec.tuning.vcpuPins,
): { cpus?: number[]; warning?: Problem } {
  const t = spec.tuning;
  if (!t.isolate) return {};
  const cpus = pinnedCpus(spec, vcpuPins);
  if (t.isolateImplied !== true || !leavesNoHostCpu(cpus, topo)) return { cpus };
  const online = formatCpuSet(topo.cpus.filter((c) => c.online).map((c) => c.id));
  return {
    warning: {
      path: 'tuning.isolate',
      message:
        spec.source.format === 'qemu-launcher'
          ? `vcpu_pinning pins every online CPU of this host (${online}); qemu-launcher would also shield them with cpuset isolation, which would leave the host no CPU for its other tasks: the vCPUs are pinned without isolation`
          : `the pins cover every online CPU of this host (${online}); isolating them would leave the host no CPU for its other tasks: the threads are pinned without isolation`,
      found: formatCpuSet(cpus),
    },
  };
}

/** Warnings about `spec.tuning` on this host: what will be done differently from what the definition implies. */
export function tuningWarnings(spec: DomainSpec, topo: HostTopology, vcpuPins?: DomainSpec['tuning']['vcpuPins']): Problem[] {
  const w = isolationOf(spec, topo, vcpuPins).warning;
  return w === undefined ? [] : [w];
}
