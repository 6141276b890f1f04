/**
 * The native definition (the YAML shape of src/config/native/schema.ts) that the XML readers fill in. The
 * libvirt import goes XML -> draft -> the native schema and resolvers -> DomainSpec, so both formats share
 * every default, check and message about values; the XML readers only translate (and report what has no
 * native equivalent). Pure.
 */
import type { XmlContext, XmlAt } from './xml-context.js';
import type { XmlElement } from './xml-tree.js';

export interface DraftDisk {
  path?: string;
  format?: string;
  bus?: string;
  media?: string;
  cache?: string;
  aio?: string;
  readonly?: boolean;
  iothread?: string;
  boot_index?: number;
  serial?: string;
  address?: string;
}

export interface DraftForward {
  host?: number;
  guest?: number;
  protocol?: string;
  address?: string;
}

export interface DraftNic {
  type: 'user' | 'tap' | 'bridge' | 'network' | 'hostdev';
  model?: string;
  mac?: string;
  ifname?: string;
  forwards?: DraftForward[];
  // ---- devices (issue 6) ----
  bridge?: string;
  network?: string;
  host?: string;
  boot_index?: number;
  mtu?: number;
  managed?: boolean;
  address?: string;
}

// ---- devices (issue 6): serial backends, balloon, RNGs, host devices ----
export type DraftSerial = 'console' | 'none' | { type: 'file'; path?: string; append?: boolean } | { type: 'unix'; path?: string; server?: boolean };

export type DraftBalloon = boolean | { stats_period?: number; autodeflate?: boolean; free_page_reporting?: boolean; address?: string };

export type DraftRng = { backend: 'random'; source?: string; address?: string } | { backend: 'builtin'; address?: string };

export interface DraftHostdev {
  host?: string;
  boot_index?: number;
  managed?: boolean;
  address?: string;
}

export interface DraftController {
  type: string;
  index?: number;
  model?: string;
  chassis?: number;
  port?: number;
  ports?: number;
  master_startport?: number;
  address?: string;
}

export interface DraftSched {
  policy?: string;
  priority?: number;
}

export interface DraftTuning {
  pinning?: 'auto' | { vcpus?: Record<string, string>; emulator?: string; iothreads?: Record<string, string> };
  scheduler?: { vcpus?: DraftSched; emulator?: DraftSched; iothreads?: DraftSched };
  rlimit_memlock?: string;
  isolate?: boolean;
  debug?: boolean;
}

export interface DraftCell {
  vcpus?: string;
  memory?: number;
  host_nodes?: string;
  mode?: string;
}

// ---- domain-level settings (issue 6): title/description, lifecycle, features, clock, pflash ----
export interface DraftPflash {
  code?: string;
  readonly?: boolean;
  vars?: string;
  vars_template?: string;
}

export interface DraftClock {
  offset?: string;
  adjustment?: number;
  basis?: string;
  timers?: { rtc?: { tickpolicy?: string }; pit?: { tickpolicy?: string }; hpet?: { present?: boolean }; kvmclock?: { present?: boolean } };
}

export interface Draft {
  name?: string;
  uuid?: string;
  title?: string;
  description?: string;
  lifecycle?: { on_poweroff?: string; on_reboot?: string; on_crash?: string };
  features?: { acpi?: boolean };
  clock?: DraftClock;
  current_memory?: number;
  emulator?: string;
  machine?: { type?: string; accel?: string };
  cpu?: { model?: string; vcpus?: number; sockets?: number; cores?: number; threads?: number; max_vcpus?: number; features?: Record<string, boolean> };
  memory?: number;
  memory_backing?: { hugepages?: true | { page_size?: string; path?: string }; prealloc?: boolean; locked?: boolean };
  numa?: { mode?: string; nodes?: string };
  numa_cells?: DraftCell[];
  boot?: { kernel?: string; initrd?: string; cmdline?: string } | { firmware?: string; pflash?: DraftPflash; order?: string[] };
  disks?: DraftDisk[];
  nics?: DraftNic[];
  serial?: DraftSerial;
  graphics?: 'none' | { type: 'vnc'; listen?: string; display?: number | 'auto'; video_address?: string };
  balloon?: DraftBalloon;
  rngs?: DraftRng[];
  hostdevs?: DraftHostdev[];
  controllers?: DraftController[];
  inputs?: { type: string; bus?: string; address?: string }[];
  iothreads?: string[];
  qemu_args?: string[];
  env?: Record<string, string>;
  clear_env?: boolean;
  user?: string | number;
  group?: string | number;
  tuning?: DraftTuning;
}

/** What the readers share besides the XML context: the draft being filled and facts found on the way. */
export interface ReadState {
  readonly ctx: XmlContext;
  readonly root: XmlElement;
  readonly draft: Draft;
  /** libvirt iothread id -> vmkit iothread name (`iothread<id>` unless the vmkit metadata renames it). */
  readonly iothreadNames: Map<number, string>;
  /** Where each iothread id is declared. */
  readonly iothreadAt: Map<number, XmlAt>;
  /** The vCPU count, once known. */
  vcpus: number | undefined;
  /** `<vcpu current='N'>M</vcpu>` with N < M: M, the possible vCPUs. */
  maxVcpus?: number;
  /** The machine type, once known. */
  machineType: string;
  /** Direct kernel boot. */
  kernelBoot: boolean;
  /** `<os><boot dev>` elements were given (per-device `<boot order>` may not be used with them). */
  osBootAt: XmlElement | undefined;
  /** The boot order is libvirt's implicit `hd` (no `<boot>` elements): per-device `<boot order>` replaces it. */
  implicitBootOrder: boolean;
  /** vmkit metadata: the hugetlbfs mount to allocate from. */
  hugepagesPath: { readonly path: string; readonly at: XmlElement } | undefined;
}

/** Sets a draft value and records where it came from. */
export function put<T>(state: ReadState, pointer: string, at: XmlAt, value: T): T {
  state.ctx.map(pointer, at);
  return value;
}
