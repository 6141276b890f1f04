/** `<domain>` -> draft: the top-level elements in dependency order, then every left-over node reported. Pure. */
import { put, type Draft, type ReadState } from './draft.js';
import { readCpu, readIothreads, readMemory, readMemoryBacking, readNumatune, readVcpu } from './read-compute.js';
import { readControllers, readEmulator, readExtras, readGraphics, readSerial } from './read-devices.js';
import { readDisks } from './read-disks.js';
import { readMetadata } from './read-metadata.js';
import { readNics } from './read-nics.js';
import { readClock, readFeatures, readLifecycle, readOs, LIBVIRT_DEFAULT_MACHINE } from './read-os.js';
import { readQemuCommandline } from './read-qemu.js';
import { readCputune } from './read-tuning.js';
import { enumAttr } from './read-values.js';
import type { XmlContext } from './xml-context.js';
import type { XmlElement } from './xml-tree.js';

export function readDomain(root: XmlElement, ctx: XmlContext): Draft {
  const draft: Draft = {};
  const state: ReadState = {
    ctx,
    root,
    draft,
    iothreadNames: new Map(),
    iothreadAt: new Map(),
    vcpus: undefined,
    machineType: LIBVIRT_DEFAULT_MACHINE,
    kernelBoot: false,
    osBootAt: undefined,
    implicitBootOrder: false,
    hugepagesPath: undefined,
  };
  const meta = readMetadata(state);

  const type = ctx.attr(root, 'type');
  let accel: string | undefined;
  if (type === 'kvm') accel = 'kvm';
  else if (type === 'qemu') accel = 'tcg';
  else {
    ctx.error({ el: root, attr: 'type' }, type === undefined ? "<domain> needs type='kvm' or type='qemu'" : `vmkit runs QEMU guests: type='${type}' is not one of them`, {
      expected: "'kvm' (hardware virtualization) or 'qemu' (TCG emulation)",
      ...(type === undefined ? {} : { found: type }),
    });
  }
  if (meta.accelAuto !== undefined) accel = put(state, '/machine/accel', meta.accelAuto, 'auto');
  else ctx.map('/machine/accel', { el: root, attr: 'type' });

  const name = ctx.child(root, 'name');
  if (name === undefined) {
    ctx.error(root, '<name> is missing: every domain needs a name');
    ctx.claim('/name');
  } else {
    draft.name = put(state, '/name', { el: name, text: true }, ctx.text(name));
  }
  const uuid = ctx.child(root, 'uuid');
  if (uuid !== undefined) draft.uuid = put(state, '/uuid', { el: uuid, text: true }, ctx.text(uuid));
  for (const key of ['title', 'description'] as const) {
    const el = ctx.child(root, key);
    const text = el === undefined ? '' : ctx.text(el);
    // An empty <title/> is no title, as in libvirt.
    if (el !== undefined && text !== '') draft[key] = put(state, `/${key}`, { el, text: true }, text);
  }

  const vcpu = readVcpu(state);
  readCpu(state);
  readNumatune(state);
  readMemory(state);
  readMemoryBacking(state);
  readIothreads(state, meta);
  readOs(state, meta);
  draft.machine = { ...draft.machine, ...(accel === undefined ? {} : { accel }) };
  readFeatures(state);
  readClock(state);
  readLifecycle(state);
  readCputune(state, vcpu, meta);
  readNoEffect(state);

  const devices = ctx.child(root, 'devices');
  let aliases = new Map<string, string>();
  if (devices === undefined) {
    draft.serial = 'none';
    draft.graphics = 'none';
  } else {
    readEmulator(state, devices);
    const controllers = readControllers(state, devices);
    aliases = readDisks(state, devices, controllers.scsi).aliases;
    readNics(state, devices);
    readSerial(state, devices);
    readGraphics(state, devices);
  }
  readExtras(state, devices);
  if (draft.current_memory !== undefined && (draft.balloon === undefined || draft.balloon === false)) {
    const cur = ctx.child(root, 'currentMemory') ?? root;
    ctx.error(cur, "<currentMemory> below <memory> is a balloon target: it needs <memballoon model='virtio'> (libvirt's default when <memballoon> is not given)");
    ctx.claim('/current_memory');
  }
  // Per-device <boot order> (disks, interfaces, host devices) replaces libvirt's implicit boot from hd.
  const perDevice = [...(draft.disks ?? []), ...(draft.nics ?? []), ...(draft.hostdevs ?? [])].some((d) => d.boot_index !== undefined);
  if (state.implicitBootOrder && perDevice && draft.boot !== undefined && 'order' in draft.boot) draft.boot.order = [];
  (draft.nics ?? []).forEach((_, i) => aliases.set(`hostnet${i}`, `net${i}`));

  const args = readQemuCommandline(state, aliases);
  const qemuArgs: string[] = [];
  for (const a of args) {
    ctx.map(`/qemu_args/${qemuArgs.length}`, { el: a.at, attr: 'value' });
    qemuArgs.push(a.value);
  }
  if (qemuArgs.length > 0) draft.qemu_args = qemuArgs;
  ctx.finish(root);
  return draft;
}

/**
 * What `virsh dumpxml` writes that has no effect under vmkit, accepted as written: `<resource><partition>`
 * `/machine` (libvirt's default cgroup partition; vmkit makes no per-VM cgroup unless pinning asks for one)
 * and `<seclabel type='none'|'dynamic'>` (vmkit relabels no files and loads no SELinux/AppArmor profile; QEMU
 * runs as `user:`/`group:` or the daemon's default user). A static label or another partition asks for
 * something vmkit does not do, and is refused.
 */
function readNoEffect(state: ReadState): void {
  const { ctx, root } = state;
  const resource = ctx.child(root, 'resource');
  if (resource !== undefined) {
    const partition = ctx.child(resource, 'partition');
    const text = partition === undefined ? undefined : ctx.text(partition);
    if (partition !== undefined && text !== '/machine') {
      ctx.unsupported({ el: partition, text: true }, "vmkit does not place VMs in libvirt's cgroup partitions: use the default /machine (no effect) or remove <resource>", { found: JSON.stringify(text) });
    }
  }
  for (const sec of ctx.children(root, 'seclabel')) {
    const type = enumAttr(ctx, sec, 'type', ['none', 'dynamic', 'static']);
    ctx.attr(sec, 'model');
    ctx.attr(sec, 'relabel');
    if (type === 'static') {
      ctx.drop({ el: sec, attr: 'type' }, "A static security label is not applied by vmkit (it loads no SELinux/AppArmor label and relabels no files): use type='dynamic' or 'none', which have no effect");
      continue;
    }
    // <label>/<imagelabel> are what a running domain got: runtime state, not configuration.
    for (const runtime of ['label', 'imagelabel'] as const) for (const l of ctx.children(sec, runtime)) ctx.text(l);
  }
}
