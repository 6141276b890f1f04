/**
 * The probe's QMP commands and the QemuCaps built from their replies. Pure: recorded replies can be
 * replayed in tests.
 */

import { VmkitError } from '../../errors.js';
import { BUS_INTERFACES, CAPS_FORMAT_VERSION, type CpuModelCaps, type DeviceBus, type DeviceCaps, type MachineCaps, type QemuCaps } from './types.js';

/** One QMP command of the probe. */
export interface ProbeCommand {
  readonly key: string;
  readonly command: string;
  readonly args?: Record<string, unknown>;
}

const listTypes = (key: string, implementsType: string): ProbeCommand => ({
  key,
  command: 'qom-list-types',
  args: { implements: implementsType, abstract: false },
});

/**
 * Everything the probe asks, sent pipelined in one session. QEMU 7.2 has neither `query-accels` nor a netdev
 * query: accelerators are the QOM types implementing `accel`, netdev types the `type` enum of
 * `netdev_add`'s argument in `query-qmp-schema`.
 */
export const PROBE_COMMANDS: readonly ProbeCommand[] = [
  { key: 'version', command: 'query-version' },
  { key: 'target', command: 'query-target' },
  { key: 'kvm', command: 'query-kvm' },
  { key: 'machines', command: 'query-machines' },
  { key: 'cpus', command: 'query-cpu-definitions' },
  listTypes('devices', 'device'),
  ...BUS_INTERFACES.map(([bus, type]) => listTypes(`bus:${bus}`, type)),
  listTypes('accels', 'accel'),
  listTypes('objects', 'user-creatable'),
  { key: 'chardevs', command: 'query-chardev-backends' },
  { key: 'schema', command: 'query-qmp-schema' },
];

/** Replies by ProbeCommand.key. */
export type ProbeReplies = Readonly<Record<string, unknown>>;

function bad(what: string): never {
  throw new VmkitError('QemuFailed', `Cannot read QEMU capabilities: unexpected reply to ${what}`, { details: { what } });
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(what);
  return v as Record<string, unknown>;
}

function list(v: unknown, what: string): Record<string, unknown>[] {
  if (!Array.isArray(v)) bad(what);
  return v.map((x) => record(x, what));
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') bad(what);
  return v;
}

function names(v: unknown, what: string): string[] {
  return list(v, what).map((x) => str(x.name, what));
}

function sorted(xs: Iterable<string>): string[] {
  return [...new Set(xs)].sort();
}

function machines(v: unknown): MachineCaps[] {
  return list(v, 'query-machines')
    .map((m): MachineCaps => ({
      name: str(m.name, 'query-machines'),
      ...(typeof m.alias === 'string' ? { alias: m.alias } : {}),
      isDefault: m['is-default'] === true,
      deprecated: m.deprecated === true,
      cpuMax: typeof m['cpu-max'] === 'number' ? m['cpu-max'] : 1,
      ...(typeof m['default-cpu-type'] === 'string' ? { defaultCpuType: m['default-cpu-type'] } : {}),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function cpuModels(v: unknown): CpuModelCaps[] {
  return list(v, 'query-cpu-definitions')
    .map((c): CpuModelCaps => ({
      name: str(c.name, 'query-cpu-definitions'),
      ...(typeof c['alias-of'] === 'string' ? { aliasOf: c['alias-of'] } : {}),
      usable: !Array.isArray(c['unavailable-features']) || c['unavailable-features'].length === 0,
      deprecated: c.deprecated === true,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function devices(replies: ProbeReplies): DeviceCaps[] {
  const busOf = new Map<string, DeviceBus>();
  // Reverse priority order, so the first interface in BUS_INTERFACES wins.
  for (const [bus] of [...BUS_INTERFACES].reverse()) {
    for (const n of names(replies[`bus:${bus}`] ?? [], `qom-list-types (${bus})`)) busOf.set(n, bus);
  }
  return sorted(names(replies.devices, 'qom-list-types (device)')).map((name) => ({ name, bus: busOf.get(name) ?? 'other' }));
}

/** `kvm-accel` -> `kvm`; the abstract base type `accel` itself is listed by QEMU 7.2 and is dropped. */
function accels(v: unknown): string[] {
  return sorted(
    names(v, 'qom-list-types (accel)')
      .filter((n) => n.endsWith('-accel'))
      .map((n) => n.slice(0, -'-accel'.length)),
  );
}

/**
 * The netdev types: the enum behind the `type` member of `netdev_add`'s argument type. The schema's type
 * names are masked numbers, so the enum is found by following the command, not by name. `none` and `nic`
 * are not `-netdev` backends and are dropped.
 */
export function netdevBackendsFromSchema(schema: unknown): string[] {
  const entries = list(schema, 'query-qmp-schema');
  const byName = new Map(entries.map((e) => [String(e.name), e]));
  const cmd = byName.get('netdev_add');
  const arg = cmd === undefined ? undefined : byName.get(String(cmd['arg-type']));
  const members = arg !== undefined && Array.isArray(arg.members) ? (arg.members as unknown[]) : [];
  const typeMember = members.map((m) => record(m, 'query-qmp-schema')).find((m) => m.name === 'type');
  const en = typeMember === undefined ? undefined : byName.get(String(typeMember.type));
  if (en === undefined || en['meta-type'] !== 'enum' || !Array.isArray(en.values)) bad('query-qmp-schema (netdev_add type enum)');
  return sorted((en.values as unknown[]).map((x) => str(x, 'query-qmp-schema')).filter((n) => n !== 'none' && n !== 'nic'));
}

/**
 * The accelerator the probe ran with (`-machine none,accel=kvm:tcg:qtest`): KVM when query-kvm says it is
 * enabled, else TCG when built in (it cannot fail to start), else qtest (a KVM-only binary without KVM).
 */
export function probeAccelOf(kvmEnabled: boolean, accels: readonly string[]): string {
  if (kvmEnabled) return 'kvm';
  if (accels.includes('tcg')) return 'tcg';
  return accels.includes('qtest') ? 'qtest' : 'none';
}

/** QemuCaps from the probe's replies. Throws QemuFailed (naming the command) for a reply of the wrong shape. */
export function capsFromReplies(binary: string, replies: ProbeReplies, meta: { at: string; ms: number }): QemuCaps {
  const version = record(replies.version, 'query-version');
  const qemu = record(version.qemu, 'query-version');
  const num = (x: unknown): number => (typeof x === 'number' ? x : bad('query-version'));
  const kvm = record(replies.kvm, 'query-kvm');
  const ms = machines(replies.machines);
  const def = ms.find((m) => m.isDefault);
  const accelList = accels(replies.accels);
  const kvmEnabled = kvm.enabled === true;
  return {
    formatVersion: CAPS_FORMAT_VERSION,
    binary,
    version: { major: num(qemu.major), minor: num(qemu.minor), micro: num(qemu.micro), package: typeof version.package === 'string' ? version.package.trim() : '' },
    arch: str(record(replies.target, 'query-target').arch, 'query-target'),
    kvm: { present: kvm.present === true, enabled: kvmEnabled },
    accels: accelList,
    probeAccel: probeAccelOf(kvmEnabled, accelList),
    machines: ms,
    ...(def === undefined ? {} : { defaultMachine: def.name }),
    cpuModels: cpuModels(replies.cpus),
    devices: devices(replies),
    objects: sorted(names(replies.objects, 'qom-list-types (user-creatable)')),
    chardevBackends: sorted(names(replies.chardevs, 'query-chardev-backends')),
    netdevBackends: netdevBackendsFromSchema(replies.schema),
    probe: meta,
  };
}
