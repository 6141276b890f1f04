/**
 * What a spec asks of its QEMU binary: machine type, accelerators, CPU model, and every device, netdev,
 * chardev and object type, read from the argv vmkit really generates (buildArgv with placeholder paths)
 * plus the definition's own QEMU options. Each use carries the JSON pointer of the field that caused it,
 * so a problem can say where it was written. Pure.
 */
import type { DomainSpec } from '../../model/domain.js';
import { buildArgv, parseOpts } from '../../qemu/index.js';

export type UsageKind = 'machine' | 'accel' | 'cpu' | 'device' | 'netdev' | 'chardev' | 'object';

export interface Usage {
  readonly kind: UsageKind;
  /** The name asked for: `q35`, `virtio-blk-pci`, `kvm`, ... (`kvm:tcg` for an accelerator list). */
  readonly name: string;
  /** JSON pointer of the definition field it comes from; `''` for vmkit's own options. */
  readonly pointer: string;
}

/** Run-time paths that only matter for their shape: buildArgv needs some. */
const PLACEHOLDER_PATHS = { qmpSocket: '/run/vmkit/x/qmp.sock', consoleSocket: '/run/vmkit/x/console.sock', pidFile: '/run/vmkit/x/qemu.pid' } as const;

/** Options whose value names something the binary must have. `--x` is read as `-x`. */
const VALUE_OPTIONS = new Set(['machine', 'M', 'accel', 'cpu', 'device', 'netdev', 'nic', 'net', 'chardev', 'object']);

function isHelp(v: string | undefined): boolean {
  return v === 'help' || v === '?';
}

/** Reads the implied head of QemuOpts text, or the `key` of a JSON object (`-device {"driver":...}`). */
function head(value: string, key: string): string | undefined {
  if (value.trimStart().startsWith('{')) {
    try {
      const o = JSON.parse(value) as Record<string, unknown>;
      return typeof o[key] === 'string' ? o[key] : undefined;
    } catch {
      return undefined;
    }
  }
  const opts = parseOpts(value, key);
  if (opts.some(([k]) => isHelp(k))) return undefined;
  const v = opts.find(([k]) => k === key)?.[1];
  return v === undefined || v === '' || isHelp(v) ? undefined : v;
}

/** The uses in one option `-name value`. `pointerFor` says where a part of it comes from. */
function optionUses(name: string, value: string | undefined, pointerFor: (part: 'head' | 'accel', id?: string) => string): Usage[] {
  const out: Usage[] = [];
  const add = (kind: UsageKind, n: string | undefined, part: 'head' | 'accel' = 'head', id?: string): void => {
    if (n !== undefined && n !== '' && !isHelp(n)) out.push({ kind, name: n, pointer: pointerFor(part, id) });
  };
  if (name === 'enable-kvm') add('accel', 'kvm', 'accel');
  if (value === undefined) return out;
  const id = (): string | undefined => (value.trimStart().startsWith('{') ? undefined : parseOpts(value, '').find(([k]) => k === 'id')?.[1]);
  switch (name) {
    case 'machine':
    case 'M': {
      add('machine', head(value, 'type'));
      const accel = parseOpts(value, 'type').find(([k]) => k === 'accel')?.[1];
      add('accel', accel, 'accel');
      break;
    }
    case 'accel':
      add('accel', head(value, 'accel'), 'accel');
      break;
    case 'cpu':
      // -cpu is `model[,feature...]`, not QemuOpts.
      add('cpu', value.split(',')[0]);
      break;
    case 'device':
      add('device', head(value, 'driver'), 'head', id());
      break;
    case 'netdev':
      add('netdev', head(value, 'type'), 'head', id());
      break;
    case 'nic': {
      const t = head(value, 'type');
      if (t !== 'none') add('netdev', t);
      break;
    }
    case 'net': {
      const t = head(value, 'type');
      if (t !== 'nic' && t !== 'none') add('netdev', t);
      break;
    }
    case 'chardev':
      add('chardev', head(value, 'backend'), 'head', id());
      break;
    case 'object':
      add('object', head(value, 'qom-type'), 'head', id());
      break;
  }
  return out;
}

/** Walks an argv, calling `each` for every option that names something (value options and -enable-kvm). */
function walk(argv: readonly string[], each: (name: string, value: string | undefined, valueIndex: number) => void): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-')) continue;
    const name = arg.replace(/^--?/, '');
    if (name === 'enable-kvm') each(name, undefined, i);
    else if (VALUE_OPTIONS.has(name) && i + 1 < argv.length) {
      each(name, argv[i + 1], i + 1);
      i++;
    }
  }
}

/** Where a generated native option comes from, by option and the `id=` vmkit gave it. */
function nativePointer(spec: DomainSpec, option: string, part: 'head' | 'accel', id: string | undefined): string {
  const diskAt = (pred: (d: DomainSpec['disks'][number]) => boolean): string => {
    const i = spec.disks.findIndex(pred);
    return i < 0 ? '/disks' : `/disks/${i}/bus`;
  };
  switch (option) {
    case 'machine':
      return part === 'accel' ? '/machine/accel' : '/machine/type';
    case 'cpu':
      return '/cpu/model';
    case 'device': {
      if (id === undefined) return '/graphics'; // the VGA card of a VNC display
      const disk = spec.disks.findIndex((d) => d.id === id);
      if (disk >= 0) return `/disks/${disk}/bus`;
      const nic = spec.nics.findIndex((n) => n.id === id);
      if (nic >= 0) return `/nics/${nic}/model`;
      if (id === 'scsi0') return diskAt((d) => d.bus === 'scsi');
      if (id === 'ahci0') return diskAt((d) => d.bus === 'sata' || d.bus === 'ide');
      return devicePointer(id);
    }
    case 'netdev': {
      const nic = spec.nics.findIndex((n) => n.id === id);
      return nic >= 0 ? `/nics/${nic}/type` : '/nics';
    }
    case 'chardev':
      return id === 'serial0' ? '/serial' : '';
    case 'object': {
      const rng = /^objrng(\d+)$/.exec(id ?? '');
      if (rng !== null) return `/rngs/${rng[1]}`;
      const io = spec.iothreads.indexOf(id ?? '');
      if (io >= 0) return `/iothreads/${io}`;
      const cell = /^vmkit-ram-node(\d+)$/.exec(id ?? '');
      if (cell !== null) return `/numa_cells/${spec.numaCells.findIndex((c) => String(c.id) === cell[1])}`;
      return spec.memoryBacking.hugepages !== undefined ? '/memory_backing/hugepages' : '/memory_backing';
    }
    default:
      return '';
  }
}

/** The balloon, RNGs and assigned PCI devices (ids `balloon0`, `rng<N>`, `hostdev<N>`). */
function devicePointer(id: string): string {
  if (id === 'balloon0') return '/balloon';
  const m = /^(rng|hostdev)(\d+)$/.exec(id);
  return m === null ? '' : `/${m[1] as string}s/${m[2] as string}`;
}

/**
 * Every use in `spec`'s argv: `built` when the caller has it (a start checks the argv it runs, built once),
 * else one built for `accel` with placeholder paths. Throws what buildArgv throws (ConfigError for hardware
 * the machine cannot have).
 */
export function specUsages(spec: DomainSpec, accel: 'kvm' | 'tcg', built?: readonly string[]): Usage[] {
  // Option names are what is checked here: a libvirt network's real bridge is looked up only at start.
  const networkBridges = new Map(spec.nics.flatMap((n) => (n.kind === 'network' ? [[n.id, 'virbr0'] as const] : [])));
  const argv = built ?? buildArgv(spec, { paths: PLACEHOLDER_PATHS, accel, networkBridges });
  const out: Usage[] = [];
  if (spec.rawOptions === undefined) {
    const generatedEnd = argv.length - spec.qemuArgs.length;
    walk(argv, (name, value, at) => {
      const pointerFor = (part: 'head' | 'accel', id?: string): string =>
        at >= generatedEnd ? `/qemu_args/${at - generatedEnd}` : nativePointer(spec, name, part, id);
      out.push(...optionUses(name, value, pointerFor));
    });
    return out;
  }
  // qemu-launcher: vmkit's control options, then each `qemu:` item (item j is /qemu/j).
  const controlEnd = argv.length - spec.qemuArgs.length - spec.rawOptions.filter((o) => o.name !== 'name').flatMap((o) => (o.value === undefined ? [0] : [0, 1])).length;
  walk(argv.slice(0, controlEnd), (name, value) => out.push(...optionUses(name, value, () => '')));
  spec.rawOptions.forEach((o, j) => {
    const name = o.name.replace(/^--?/, '');
    if (name === 'enable-kvm' || VALUE_OPTIONS.has(name)) out.push(...optionUses(name, o.value, () => `/qemu/${j}`));
  });
  return out;
}
