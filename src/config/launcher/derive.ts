/**
 * qemu-launcher: the structured DomainSpec fields that vmkit needs (name, machine, CPU topology, memory, ...)
 * derived from the raw QEMU options, which stay the source of truth for the command line. Pure.
 */
import type { Accel, CpuSpec, GraphicsSpec, MachineSpec, MemoryBackingSpec, SerialSpec } from '../../model/domain.js';
import { isVmkitError } from '../../errors.js';
import type { Problems } from '../problems.js';
import { MiB, parseSize } from '../size.js';
import type { CompiledOption } from './qemu-options.js';
import { parseQemuOpts } from './qemu-opts.js';

/** QEMU's defaults for qemu-system-x86_64 when an option is absent. */
export const QEMU_DEFAULT_MACHINE = 'pc';
export const QEMU_DEFAULT_MEMORY_MIB = 128;

export interface DerivedFields {
  /** The `-name` guest name, if any. */
  readonly guestName?: string;
  readonly guestNamePointer?: string;
  readonly machine: MachineSpec;
  readonly cpu: CpuSpec;
  /** Where the topology comes from (the `smp` option), for pinning messages. */
  readonly smpPointer?: string;
  /** False when `-smp` could not be understood (pinning checks are then skipped). */
  readonly topologyKnown: boolean;
  readonly memoryMiB: number;
  readonly memoryBacking: MemoryBackingSpec;
  readonly iothreads: readonly string[];
  readonly serial: SerialSpec;
  readonly graphics: GraphicsSpec;
}

function last(options: readonly CompiledOption[], ...names: string[]): CompiledOption | undefined {
  for (let i = options.length - 1; i >= 0; i--) {
    const o = options[i] as CompiledOption;
    if (names.includes(o.option.name)) return o;
  }
  return undefined;
}

const SMP_KEYS = new Set(['cpus', 'maxcpus', 'sockets', 'dies', 'clusters', 'cores', 'threads', 'books', 'drawers']);

/** `-smp` the way QEMU 7.2 computes it (preferring cores over sockets for missing values). */
function deriveCpu(options: readonly CompiledOption[], problems: Problems): { cpu: Omit<CpuSpec, 'model'>; known: boolean; pointer?: string } {
  const smp = last(options, 'smp');
  if (smp === undefined) return { cpu: { vcpus: 1, sockets: 1, cores: 1, threads: 1 }, known: true };
  const at = smp.valuePointer;
  const props = parseQemuOpts(smp.option.value ?? '', 'cpus');
  const n: Record<string, number> = {};
  let known = true;
  for (const [k, v] of props) {
    if (!SMP_KEYS.has(k)) {
      problems.add(at, { at: 'key', message: `Unknown -smp property \`${k}\``, expected: [...SMP_KEYS].join(', '), found: JSON.stringify(k) });
      known = false;
      continue;
    }
    if (!/^\d+$/.test(v) || Number(v) > 4096) {
      problems.add(at, { at: 'key', message: `-smp ${k} must be a whole number`, found: JSON.stringify(v) });
      known = false;
      continue;
    }
    n[k] = Number(v);
  }
  for (const k of ['dies', 'clusters', 'books', 'drawers']) {
    if ((n[k] ?? 1) > 1) {
      problems.add(at, { at: 'key', message: `-smp ${k}=${n[k]} is not supported by vmkit (vCPU pinning addresses socket/core/thread only)` });
      known = false;
    }
  }
  const cpusIn = n.cpus ?? 0;
  let maxcpus = n.maxcpus ?? 0;
  let sockets = n.sockets ?? 0;
  let cores = n.cores ?? 0;
  let threads = n.threads ?? 0;
  if (cpusIn === 0 && maxcpus === 0) {
    sockets ||= 1;
    cores ||= 1;
    threads ||= 1;
  } else {
    maxcpus ||= cpusIn;
    if (cores === 0) {
      sockets ||= 1;
      threads ||= 1;
      cores = Math.floor(maxcpus / (sockets * threads));
    } else if (sockets === 0) {
      threads ||= 1;
      sockets = Math.floor(maxcpus / (cores * threads));
    }
  }
  threads ||= 1;
  const total = sockets * cores * threads;
  maxcpus ||= total;
  const vcpus = cpusIn || maxcpus;
  if (total !== maxcpus || total === 0) {
    problems.add(at, {
      at: 'key',
      message: `Invalid CPU topology: sockets*cores*threads = ${sockets}*${cores}*${threads} = ${total}, but the vCPU count is ${maxcpus} (QEMU refuses this too)`,
      expected: `sockets*cores*threads = ${maxcpus}`,
      found: JSON.stringify(smp.option.value),
    });
    // The declared sockets/cores/threads still show the intended layout: pinning is checked against them.
    if (total === 0) known = false;
  } else if (maxcpus !== vcpus) {
    problems.add(at, { at: 'key', message: `maxcpus=${maxcpus} (CPU hotplug) is not supported by vmkit; use cpus=${maxcpus} or drop maxcpus`, found: JSON.stringify(smp.option.value) });
    known = false;
  }
  return { cpu: { vcpus: Math.max(vcpus, 1), sockets: Math.max(sockets, 1), cores: Math.max(cores, 1), threads }, known, pointer: at };
}

/** `-machine accel=`, `-accel`, `-enable-kvm` -> kvm, tcg or auto (kvm falling back to tcg). QEMU's default is tcg. */
function deriveMachine(options: readonly CompiledOption[], problems: Problems): MachineSpec {
  let type = QEMU_DEFAULT_MACHINE;
  let machineAccel: { list: string[]; at: string } | undefined;
  const accels: { name: string; at: string }[] = [];
  for (const o of options) {
    const { name, value } = o.option;
    if (name === 'machine' || name === 'M') {
      const props = parseQemuOpts(value ?? '', 'type');
      const t = props.get('type');
      if (t !== undefined && t !== '') type = t;
      const a = props.get('accel');
      if (a !== undefined) machineAccel = { list: a.split(':'), at: o.valuePointer };
    } else if (name === 'accel') {
      const a = parseQemuOpts(value ?? '', 'accel').get('accel');
      if (a !== undefined) accels.push({ name: a, at: o.valuePointer });
    } else if (name === 'enable-kvm') {
      accels.push({ name: 'kvm', at: o.valuePointer });
    }
  }
  if (machineAccel !== undefined && accels.length > 0) {
    problems.add(machineAccel.at, { at: 'key', message: 'The -accel (or -enable-kvm) and -machine accel= options are incompatible (QEMU refuses both); keep one' });
  }
  const list = machineAccel?.list.map((a) => ({ name: a, at: machineAccel?.at ?? '' })) ?? accels;
  for (const a of list) {
    if (a.name !== 'kvm' && a.name !== 'tcg') {
      problems.add(a.at, { at: 'key', message: `vmkit supports the kvm and tcg accelerators`, expected: '`kvm`, `tcg` or `kvm:tcg`', found: JSON.stringify(a.name) });
    }
  }
  const names = list.map((a) => a.name);
  let accel: Accel = 'tcg';
  if (names[0] === 'kvm') accel = names.includes('tcg') ? 'auto' : 'kvm';
  return { type, accel };
}

function deriveMemory(options: readonly CompiledOption[], problems: Problems): number {
  const m = last(options, 'm');
  if (m === undefined) return QEMU_DEFAULT_MEMORY_MIB;
  const size = parseQemuOpts(m.option.value ?? '', 'size').get('size');
  if (size === undefined) return QEMU_DEFAULT_MEMORY_MIB;
  let bytes: number | undefined;
  try {
    bytes = parseSize(size, 'M');
  } catch (e) {
    if (!isVmkitError(e)) throw e;
  }
  if (bytes === undefined || bytes % MiB !== 0 || bytes < 16 * MiB) {
    problems.add(m.valuePointer, { at: 'key', message: 'Cannot use this memory size', expected: 'a whole number of MiB, at least 16, like 2G or 2048', found: JSON.stringify(size) });
    return QEMU_DEFAULT_MEMORY_MIB;
  }
  return bytes / MiB;
}

function deriveGraphics(options: readonly CompiledOption[]): GraphicsSpec {
  const vnc = last(options, 'vnc');
  const first = vnc?.option.value?.split(',')[0] ?? '';
  const m = /^([0-9.]*):(\d+)$/.exec(first);
  if (m === null) return { type: 'none' };
  return { type: 'vnc', listen: m[1] === '' ? '0.0.0.0' : (m[1] as string), display: Number(m[2]) };
}

export function deriveFields(options: readonly CompiledOption[], problems: Problems): DerivedFields {
  const nameOpt = last(options, 'name');
  const guestName = nameOpt === undefined ? undefined : parseQemuOpts(nameOpt.option.value ?? '', 'guest').get('guest');
  const cpuModel = last(options, 'cpu')?.option.value?.split(',')[0];
  const { cpu, known, pointer } = deriveCpu(options, problems);
  const memPath = last(options, 'mem-path')?.option.value;
  const overcommit = last(options, 'overcommit');
  const locked = overcommit !== undefined && parseQemuOpts(overcommit.option.value ?? '').get('mem-lock') === 'on';
  const iothreads = options
    .filter((o) => o.option.name === 'object')
    .map((o) => parseQemuOpts(o.option.value ?? '', 'qom-type'))
    .filter((p) => p.get('qom-type') === 'iothread' && p.get('id') !== undefined)
    .map((p) => p.get('id') as string);
  const userSerial = options.some((o) => o.option.name === 'serial' || o.option.name === 'nographic');
  return {
    ...(guestName === undefined || nameOpt === undefined ? {} : { guestName, guestNamePointer: nameOpt.valuePointer }),
    machine: deriveMachine(options, problems),
    cpu: { ...(cpuModel === undefined || cpuModel === '' ? {} : { model: cpuModel }), ...cpu },
    ...(pointer === undefined ? {} : { smpPointer: pointer }),
    topologyKnown: known,
    memoryMiB: deriveMemory(options, problems),
    memoryBacking: {
      ...(memPath === undefined ? {} : { hugepages: { path: memPath } }),
      prealloc: options.some((o) => o.option.name === 'mem-prealloc'),
      locked,
    },
    iothreads,
    serial: { mode: userSerial ? 'none' : 'console' },
    graphics: deriveGraphics(options),
  };
}
