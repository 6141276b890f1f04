/**
 * vmkit's own settings that libvirt has no element for, kept where libvirt keeps application data:
 * `<metadata><vmkit:domain xmlns:vmkit="urn:vmkit:libvirt-metadata:v1">...</vmkit:domain></metadata>`.
 * libvirt stores and returns such elements untouched, so a definition exported by vmkit can go through
 * `virsh define`/`dumpxml` and back without losing them. Pure.
 */
import { put, type ReadState } from './draft.js';
import { enumAttr, intAttr, readInt, yesNoAttr } from './read-values.js';
import type { XmlElement } from './xml-tree.js';

export const VMKIT_NS = 'urn:vmkit:libvirt-metadata:v1';

export interface VmkitMeta {
  accelAuto?: XmlElement;
  /** iothread id -> name, for iothreads whose vmkit name is not `iothread<id>`. */
  readonly iothreadNames: Map<number, { name: string; at: XmlElement }>;
  /** Scheduler groups that use SCHED_OTHER explicitly (libvirt's schedulers have no `other`). */
  readonly schedOther: Map<'vcpus' | 'emulator' | 'iothreads', XmlElement>;
  /**
   * `unset`: no boot settings at all; `qemu-order`: firmware boot in QEMU's own device order. libvirt has
   * neither: without `<boot>` elements it boots from the first hard disk.
   */
  bootMode?: { readonly mode: 'unset' | 'qemu-order'; readonly at: XmlElement };
}

const ACCOUNT_ID = /^\d+$/;

function account(v: string): string | number {
  return ACCOUNT_ID.test(v) ? Number(v) : v;
}

export function readMetadata(state: ReadState): VmkitMeta {
  const { ctx, root, draft } = state;
  const meta: VmkitMeta = { iothreadNames: new Map(), schedOther: new Map() };
  const md = ctx.child(root, 'metadata');
  if (md === undefined) return meta;
  const vm = ctx.child(md, 'domain', VMKIT_NS);
  if (vm === undefined) return meta;

  const accel = ctx.child(vm, 'accel', VMKIT_NS);
  if (accel !== undefined) {
    const v = ctx.text(accel);
    if (v === 'auto') meta.accelAuto = accel;
    else ctx.error({ el: accel, text: true }, 'vmkit:accel only says `auto` (KVM when usable, else TCG); the domain type says kvm or qemu', { expected: 'auto', found: JSON.stringify(v) });
  }

  const emulator = ctx.child(vm, 'emulator', VMKIT_NS);
  if (emulator !== undefined) draft.emulator = put(state, '/emulator', { el: emulator, text: true }, ctx.text(emulator));

  const proc = ctx.child(vm, 'process', VMKIT_NS);
  if (proc !== undefined) {
    const user = ctx.attr(proc, 'user');
    const group = ctx.attr(proc, 'group');
    if (user !== undefined) draft.user = put(state, '/user', { el: proc, attr: 'user' }, account(user));
    if (group !== undefined) draft.group = put(state, '/group', { el: proc, attr: 'group' }, account(group));
    const clear = yesNoAttr(ctx, proc, 'clear-env');
    if (clear !== undefined) draft.clear_env = put(state, '/clear_env', { el: proc, attr: 'clear-env' }, clear);
  }

  const tuning = ctx.child(vm, 'tuning', VMKIT_NS);
  if (tuning !== undefined) {
    const t = (draft.tuning ??= {});
    const pinning = enumAttr(ctx, tuning, 'pinning', ['auto']);
    if (pinning !== undefined) t.pinning = put(state, '/tuning/pinning', { el: tuning, attr: 'pinning' }, 'auto');
    const isolate = yesNoAttr(ctx, tuning, 'isolate');
    if (isolate !== undefined) t.isolate = put(state, '/tuning/isolate', { el: tuning, attr: 'isolate' }, isolate);
    const debug = yesNoAttr(ctx, tuning, 'debug');
    if (debug !== undefined) t.debug = put(state, '/tuning/debug', { el: tuning, attr: 'debug' }, debug);
    const memlock = ctx.attr(tuning, 'rlimit-memlock');
    if (memlock !== undefined) {
      const at = { el: tuning, attr: 'rlimit-memlock' };
      if (memlock === 'unlimited') t.rlimit_memlock = put(state, '/tuning/rlimit_memlock', at, 'unlimited');
      else {
        const bytes = readInt(ctx, at, memlock, { min: 0 });
        if (bytes !== undefined) t.rlimit_memlock = put(state, '/tuning/rlimit_memlock', at, `${bytes}B`);
      }
    }
    for (const [attr, group] of [['vcpu-scheduler', 'vcpus'], ['emulator-scheduler', 'emulator'], ['iothread-scheduler', 'iothreads']] as const) {
      if (enumAttr(ctx, tuning, attr, ['other']) !== undefined) meta.schedOther.set(group, tuning);
    }
  }

  const boot = ctx.child(vm, 'boot', VMKIT_NS);
  if (boot !== undefined) {
    const mode = enumAttr(ctx, boot, 'mode', ['unset', 'qemu-order']);
    if (mode !== undefined) meta.bootMode = { mode, at: boot };
    else if (ctx.attr(boot, 'mode') === undefined) ctx.error({ el: boot, attr: 'mode' }, 'vmkit:boot needs mode', { expected: "'unset' or 'qemu-order'" });
  }

  const huge = ctx.child(vm, 'hugepages', VMKIT_NS);
  if (huge !== undefined) {
    const path = ctx.attr(huge, 'path');
    if (path === undefined) ctx.error({ el: huge, attr: 'path' }, 'vmkit:hugepages needs path, a hugetlbfs mount point');
    else state.hugepagesPath = { path, at: huge };
  }

  for (const io of ctx.children(vm, 'iothread', VMKIT_NS)) {
    const id = intAttr(ctx, io, 'id', { min: 1, max: 2 ** 31 - 1 });
    const name = ctx.attr(io, 'name');
    if (id === undefined || name === undefined) {
      if (name === undefined) ctx.error({ el: io, attr: 'name' }, 'vmkit:iothread needs id and name');
      continue;
    }
    if (meta.iothreadNames.has(id)) ctx.error({ el: io, attr: 'id' }, `iothread ${id} is already named in vmkit metadata`);
    else meta.iothreadNames.set(id, { name, at: io });
  }
  return meta;
}
