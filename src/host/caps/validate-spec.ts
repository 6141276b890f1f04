/**
 * validateAgainstCaps: the problems of a spec on one QEMU binary: a machine type, accelerator, CPU model,
 * device, netdev, chardev or object type the binary lacks, each with where it was written and the closest
 * names the binary has. Pure: the caps are looked up once by the caller (one look-up per operation).
 */
import { ConfigError, isVmkitError, type Problem } from '../../errors.js';
import type { DomainSpec } from '../../model/domain.js';
import { specUsages, type Usage, type UsageKind } from './argv-usage.js';
import { displayPath, pointerOf, type FieldPosition } from './field-path.js';
import { closestNames, machineFamilySuggestion, orList } from './suggest-names.js';
import { versionText, type QemuCaps } from './types.js';

export interface ValidateCapsOptions {
  /**
   * Position of a field, given its JSON pointer (`/machine/type`, `/disks/0/bus`, `/qemu/3`); see
   * definitionLocator(). Without it, problems carry the spec's source file only.
   */
  readonly positions?: (pointer: string) => { file?: string; line?: number; col?: number; path?: string } | FieldPosition | undefined;
  /** The argv of the start being checked (buildArgv's output); default: one built with placeholder paths. */
  readonly argv?: readonly string[];
}

/** The accelerator a spec runs with on this binary: `auto` is KVM when the probe could use it, else TCG. */
export function effectiveAccel(spec: DomainSpec, caps: QemuCaps): 'kvm' | 'tcg' {
  if (spec.machine.accel !== 'auto') return spec.machine.accel;
  return caps.kvm.enabled ? 'kvm' : 'tcg';
}

/** True when `accel` can run here: KVM when the probe could enable it, others when built in. */
export function accelUsable(caps: QemuCaps, accel: string): boolean {
  if (accel === 'kvm') return caps.kvm.enabled;
  return caps.accels.includes(accel);
}

/**
 * The accelerators that can run a guest with this binary here: KVM when the probe could enable it, and
 * every other built-in one except qtest (a test harness, no guest runs under it). Empty for a KVM-only
 * binary (qemu-system-x86_64-microvm) on a host without a usable /dev/kvm.
 */
export function guestAccels(caps: QemuCaps): string[] {
  return caps.accels.filter((a) => (a === 'kvm' ? caps.kvm.enabled : a !== 'qtest'));
}

/** Machine type names and aliases the binary accepts for `-machine`. */
export function machineNames(caps: QemuCaps): string[] {
  return caps.machines.flatMap((m) => (m.alias === undefined ? [m.name] : [m.alias, m.name]));
}

const WHAT: Readonly<Record<Exclude<UsageKind, 'accel'>, string>> = {
  machine: 'Machine type',
  cpu: 'CPU model',
  device: 'Device type',
  netdev: 'Network backend (-netdev type)',
  chardev: 'Character device backend (-chardev type)',
  object: 'Object type (-object)',
};

function candidates(kind: Exclude<UsageKind, 'accel'>, caps: QemuCaps): string[] {
  switch (kind) {
    case 'machine':
      return machineNames(caps);
    case 'cpu':
      return caps.cpuModels.map((c) => c.name);
    case 'device':
      return caps.devices.map((d) => d.name);
    case 'netdev':
      return [...caps.netdevBackends];
    case 'chardev':
      return [...caps.chardevBackends];
    case 'object':
      return [...caps.objects];
  }
}

/** Every problem of `spec` on the binary described by `caps`; [] when it fits. */
export function validateAgainstCaps(spec: DomainSpec, caps: QemuCaps, opts: ValidateCapsOptions = {}): Problem[] {
  const accel = effectiveAccel(spec, caps);
  const binary = `${caps.binary} (QEMU ${versionText(caps.version)})`;
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const add = (pointer: string, p: Omit<Problem, 'path' | 'file' | 'line' | 'col'>): void => {
    const dedupe = `${pointer}\0${p.message}`;
    if (seen.has(dedupe)) return;
    seen.add(dedupe);
    problems.push({ path: displayPath(pointer), ...where(spec, pointer, opts), ...p });
  };

  let usages: Usage[];
  try {
    usages = specUsages(spec, accel, opts.argv);
  } catch (e) {
    // Hardware this machine cannot have: buildArgv names the field; add its position.
    if (e instanceof ConfigError) {
      return e.problems.map((p) => ({ ...p, ...where(spec, pointerOf(p.path), opts) }));
    }
    if (isVmkitError(e)) return [{ ...where(spec, '', opts), path: '', message: e.message }];
    throw e;
  }

  const known = new Map<string, Set<string>>();
  const has = (kind: Exclude<UsageKind, 'accel'>, name: string): boolean => {
    let set = known.get(kind);
    if (set === undefined) {
      set = new Set(candidates(kind, caps));
      known.set(kind, set);
    }
    return set.has(name);
  };

  for (const u of usages) {
    if (u.kind === 'accel') {
      const wanted = u.name.split(':').filter((a) => a !== '');
      if (wanted.some((a) => accelUsable(caps, a))) continue;
      add(u.pointer, { message: accelMessage(wanted, caps, binary), found: JSON.stringify(u.name) });
      continue;
    }
    if (u.kind === 'cpu' && u.name === 'host' && accel !== 'kvm') {
      add(u.pointer, {
        message: 'CPU model "host" passes the host CPU through and needs KVM, but this VM runs under TCG: use model max (every feature TCG emulates), or accel kvm',
        found: '"host"',
      });
      continue;
    }
    if (has(u.kind, u.name)) continue;
    // A versioned machine type from another QEMU (RHEL's pc-q35-rhel9.2.0) or a misspelt one: the newest of its family.
    const family = u.kind === 'machine' ? machineFamilySuggestion(u.name, caps.machines) : undefined;
    const near = family !== undefined ? [family] : closestNames(u.name, candidates(u.kind, caps));
    const hint = near.length > 0 ? `did you mean ${orList(near)}?` : `\`vmkit host caps --binary ${caps.binary}\` lists what it has`;
    add(u.pointer, { message: `${WHAT[u.kind]} "${u.name}" is not available in ${binary}: ${hint}`, found: JSON.stringify(u.name) });
  }
  return problems;
}

function accelMessage(wanted: readonly string[], caps: QemuCaps, binary: string): string {
  if (guestAccels(caps).length === 0 && caps.kvm.present) {
    const only = caps.accels.filter((a) => a !== 'qtest');
    return `Only the ${orList(only)} accelerator${only.length === 1 ? ' is' : 's are'} built into ${binary} and KVM is not usable here (/dev/kvm is missing or this user cannot open it read-write): this binary cannot run guests here; use a QEMU with TCG (qemu-system-x86_64), or see \`vmkit host validate\``;
  }
  if (wanted.length === 1 && wanted[0] === 'kvm') {
    return caps.kvm.present
      ? 'KVM is not usable here: /dev/kvm is missing or this user cannot open it read-write; use accel tcg (or auto, which falls back to TCG), or see `vmkit host validate`'
      : `${binary} is built without KVM: install a QEMU with KVM support, or use accel tcg`;
  }
  return `No accelerator of ${orList(wanted.map((a) => `"${a}"`))} can run with ${binary}; it has ${orList(caps.accels.filter((a) => a !== 'qtest')) || 'none'}${caps.kvm.enabled ? '' : ' (KVM not usable)'}`;
}

/** The file, position and (for XML and qemu-launcher files) the path as written there, of the field at `pointer`. */
function where(spec: DomainSpec, pointer: string, opts: ValidateCapsOptions): { file?: string; line?: number; col?: number; path?: string } {
  const pos = opts.positions?.(pointer);
  const file = pos?.file ?? spec.source.file;
  return {
    ...(file === undefined ? {} : { file }),
    ...(pos?.line === undefined ? {} : { line: pos.line, col: pos.col ?? 1 }),
    ...(pos?.path === undefined ? {} : { path: pos.path }),
  };
}
