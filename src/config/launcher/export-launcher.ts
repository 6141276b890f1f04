/**
 * DomainSpec of a qemu-launcher file (with `rawOptions`) -> qemu-launcher YAML that parses back into the same
 * spec: the `launcher:` section from the process and tuning fields, and the `qemu:` list from the raw options
 * (each value written as a raw string, which the launcher reader keeps verbatim). Pure.
 */
import { stringify } from 'yaml';
import type { DomainSpec } from '../../model/domain.js';
import { formatCpuSet } from '../../util/cpu-set.js';
import { formatSize } from '../size.js';

/** vCPU index -> socket/core/thread, in QEMU's cpu-index order (see pinning.ts). */
function vcpuPinning(spec: DomainSpec): Record<string, Record<string, Record<string, string>>> | undefined {
  const { cores, threads } = spec.cpu;
  if (spec.tuning.vcpuPins.length === 0) return undefined;
  const out: Record<string, Record<string, Record<string, string>>> = {};
  for (const { vcpu, cpus } of spec.tuning.vcpuPins) {
    const thread = vcpu % threads;
    const core = Math.floor(vcpu / threads) % cores;
    const socket = Math.floor(vcpu / (threads * cores));
    ((out[String(socket)] ??= {})[String(core)] ??= {})[String(thread)] = formatCpuSet(cpus);
  }
  return out;
}

/** The qemu-launcher file of `spec`, as a plain value; undefined for specs of other formats. */
export function launcherDefinition(spec: DomainSpec): Record<string, unknown> | undefined {
  if (spec.rawOptions === undefined) return undefined;
  const t = spec.tuning;
  const p = spec.process;
  const launcher: Record<string, unknown> = { binary: spec.emulator };
  if (p.clearEnv) launcher.clear_env = true;
  if (Object.keys(p.env).length > 0) launcher.env = { ...p.env };
  if (t.debug) launcher.debug = true;
  if (p.user !== undefined) launcher.user = p.user;
  if (p.group !== undefined) launcher.group = p.group;
  if (t.vcpuSched !== undefined) {
    launcher.scheduler = t.vcpuSched.policy;
    if (t.vcpuSched.priority !== undefined) launcher.priority = t.vcpuSched.priority;
  }
  const pins = vcpuPinning(spec);
  if (pins !== undefined) launcher.vcpu_pinning = pins;
  if (t.rlimitMemlock !== undefined) launcher.rlimit_memlock = t.rlimitMemlock === 'unlimited' ? 'unlimited' : formatSize(t.rlimitMemlock);
  const qemu = spec.rawOptions.map((o) => (o.value === undefined ? o.name : { [o.name]: o.value }));
  return { launcher, qemu };
}

/** The qemu-launcher YAML text of `spec`; undefined for specs of other formats. */
export function exportLauncherYaml(spec: DomainSpec): string | undefined {
  const def = launcherDefinition(spec);
  return def === undefined ? undefined : stringify(def, { lineWidth: 0 });
}
