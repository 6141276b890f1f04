/**
 * `<interface>`: type='user' (slirp, with libvirt's `<portForward>` for host ports), type='ethernet' on an
 * existing tap (`<target dev='tap0' managed='no'/>`), type='bridge' (a tap made by QEMU's bridge helper,
 * as libvirt's session mode does), type='network' (a libvirt network, joined on its bridge when the domain
 * starts) and type='hostdev' (an SR-IOV VF assigned with vfio-pci); `<boot order>`
 * and `<mtu>`. Without `<model>` libvirt gives x86 guests an rtl8139, and so does vmkit here. Pure.
 */
import { child } from '../pointer.js';
import { put, type DraftForward, type DraftNic, type ReadState } from './draft.js';
import { readGuestAddress } from './read-address.js';
import { pciAddress } from './read-devices.js';
import { enumAttr, intAttr } from './read-values.js';
import type { XmlElement } from './xml-tree.js';

/** libvirt's NIC model for x86 guests without `<model>`. */
export const LIBVIRT_DEFAULT_NIC_MODEL = 'rtl8139';

const SUPPORTED = "'user', 'ethernet', 'bridge', 'network' or 'hostdev'";

const NOT_YET: Readonly<Record<string, string>> = {
  direct: 'macvtap devices are not created by vmkit',
  vhostuser: 'vhost-user needs a socket backend',
};

export function readNics(state: ReadState, devices: XmlElement): void {
  const { ctx } = state;
  const nics: DraftNic[] = [];
  for (const nic of ctx.children(devices, 'interface')) {
    const n = readNic(state, nic, nics.length);
    if (n !== undefined) nics.push(n);
  }
  if (nics.length > 0) state.draft.nics = nics;
}

/**
 * `<boot order='N'/>` of a device other than a disk -> `boot_index` at `at`: firmware boot only, and not
 * together with `<os><boot dev>`.
 */
export function readDeviceBoot(state: ReadState, el: XmlElement, at: string): number | undefined {
  const { ctx } = state;
  const boot = ctx.child(el, 'boot');
  if (boot === undefined) return undefined;
  const order = intAttr(ctx, boot, 'order', { min: 1, max: 1000 });
  if (state.kernelBoot) {
    ctx.error(boot, '<boot order> only applies to firmware boot, but this domain boots a kernel directly (<kernel>); remove it');
  } else if (state.osBootAt !== undefined) {
    ctx.error(boot, `Per-device <boot order> cannot be combined with <os><boot dev> (${state.osBootAt.path}); use one or the other`);
  } else if (order !== undefined) {
    return put(state, child(at, 'boot_index'), { el: boot, attr: 'order' }, order);
  } else if (ctx.attr(boot, 'order') === undefined) {
    ctx.error({ el: boot, attr: 'order' }, '<boot> needs order, a number from 1');
  }
  return undefined;
}

function readNic(state: ReadState, nic: XmlElement, i: number): DraftNic | undefined {
  const { ctx } = state;
  const at = child('/nics', i);
  ctx.map(at, nic);
  const type = ctx.attr(nic, 'type');
  if (type === undefined) {
    ctx.error({ el: nic, attr: 'type' }, '<interface> needs type', { expected: SUPPORTED });
    ctx.useAll(nic);
    return undefined;
  }
  if (type !== 'user' && type !== 'ethernet' && type !== 'bridge' && type !== 'network' && type !== 'hostdev') {
    const why = NOT_YET[type];
    ctx.drop({ el: nic, attr: 'type' }, `Interfaces of type '${type}' are not supported${why === undefined ? ` yet; use type=${SUPPORTED}` : `: ${why}`}`);
    return undefined;
  }
  if (type === 'hostdev') return readHostdevNic(state, nic, at);
  const out: DraftNic = type === 'user' ? { type: 'user' } : type === 'bridge' ? { type: 'bridge' } : type === 'network' ? { type: 'network' } : { type: 'tap' };
  ctx.map(child(at, 'type'), { el: nic, attr: 'type' });
  const model = ctx.child(nic, 'model');
  const modelType = model === undefined ? undefined : ctx.attr(model, 'type');
  if (model !== undefined && modelType === undefined) ctx.error({ el: model, attr: 'type' }, '<model> needs type, like virtio');
  out.model = modelType === undefined || model === undefined ? LIBVIRT_DEFAULT_NIC_MODEL : put(state, child(at, 'model'), { el: model, attr: 'type' }, modelType);
  const mac = ctx.child(nic, 'mac');
  if (mac !== undefined) {
    const address = ctx.attr(mac, 'address');
    if (address === undefined) ctx.error({ el: mac, attr: 'address' }, '<mac> needs address, like 52:54:00:12:34:56');
    else out.mac = put(state, child(at, 'mac'), { el: mac, attr: 'address' }, address);
  }
  if (type === 'ethernet') {
    const target = ctx.child(nic, 'target');
    const dev = target === undefined ? undefined : ctx.attr(target, 'dev');
    if (target === undefined || dev === undefined) {
      ctx.error(target === undefined ? nic : { el: target, attr: 'dev' }, "vmkit connects type='ethernet' interfaces to an existing tap device: add <target dev='tap0' managed='no'/>");
      ctx.claim(child(at, 'ifname'));
    } else {
      out.ifname = put(state, child(at, 'ifname'), { el: target, attr: 'dev' }, dev);
      const managed = enumAttr(ctx, target, 'managed', ['yes', 'no']);
      if (managed !== 'no') {
        ctx.error({ el: target, attr: 'managed' }, `vmkit uses the existing tap device ${dev} and does not create one: add managed='no' to <target>`);
      }
    }
  } else if (type === 'bridge' || type === 'network') {
    readBridgeSource(state, nic, at, out, type);
  } else {
    const forwards: DraftForward[] = [];
    for (const pf of ctx.children(nic, 'portForward')) readForward(state, pf, child(at, 'forwards'), forwards);
    if (forwards.length > 0) out.forwards = forwards;
  }
  const mtu = ctx.child(nic, 'mtu');
  if (mtu !== undefined) {
    const size = intAttr(ctx, mtu, 'size', { min: 68, max: 65535 });
    if (size !== undefined) out.mtu = put(state, child(at, 'mtu'), { el: mtu, attr: 'size' }, size);
    else if (ctx.attr(mtu, 'size') === undefined) ctx.error({ el: mtu, attr: 'size' }, '<mtu> needs size, like 9000');
  }
  readLink(state, nic);
  const bootIndex = readDeviceBoot(state, nic, at);
  if (bootIndex !== undefined) out.boot_index = bootIndex;
  const address = readGuestAddress(state, nic, at, ['pci']);
  if (address !== undefined) out.address = address;
  return out;
}

/**
 * The source of a NIC that QEMU's bridge helper joins to a bridge: `<source bridge='br0'/>` (type='bridge')
 * or `<source network='default'/>` (type='network', whose bridge is looked up at start); no `<target>`.
 */
function readBridgeSource(state: ReadState, nic: XmlElement, at: string, out: DraftNic, type: 'bridge' | 'network'): void {
  const { ctx } = state;
  const source = ctx.child(nic, 'source');
  const attr = type === 'bridge' ? 'bridge' : 'network';
  const value = source === undefined ? undefined : ctx.attr(source, attr);
  if (source === undefined || value === undefined) {
    ctx.error(
      source === undefined ? nic : { el: source, attr },
      type === 'bridge' ? "<interface type='bridge'> needs the host bridge: <source bridge='br0'/>" : "<interface type='network'> needs the libvirt network: <source network='default'/>",
    );
    ctx.claim(child(at, attr));
  } else {
    out[attr] = put(state, child(at, attr), { el: source, attr }, value);
  }
  if (type === 'network' && source !== undefined) {
    for (const a of ['portgroup', 'portid'] as const) {
      if (ctx.attr(source, a) !== undefined) ctx.unsupported({ el: source, attr: a }, `Network ${a}s are applied by libvirtd, which vmkit does not use; remove ${a}`);
    }
  }
  const target = ctx.child(nic, 'target');
  if (target !== undefined) {
    ctx.unsupported(target, "QEMU's bridge helper creates and names the tap device itself; remove <target> (or use type='ethernet' with a tap you created)");
  }
  const backend = ctx.child(nic, 'backend');
  if (backend !== undefined) {
    const tap = ctx.attr(backend, 'tap');
    if (tap !== undefined) ctx.unsupported({ el: backend, attr: 'tap' }, 'A tap device path other than /dev/net/tun is not supported');
  }
}

/** `<link state='up'/>` is what every NIC starts as; a link that starts down is not supported yet. */
function readLink(state: ReadState, nic: XmlElement): void {
  const { ctx } = state;
  const link = ctx.child(nic, 'link');
  if (link === undefined) return;
  const st = enumAttr(ctx, link, 'state', ['up', 'down']);
  if (st === 'down') ctx.unsupported({ el: link, attr: 'state' }, "A link that starts down is not supported yet (QEMU sets it with QMP set_link after start); remove <link state='down'/>");
}

/**
 * `<interface type='hostdev' managed='yes|no'><mac/><source><address type='pci' .../></source>`: a VF assigned
 * with vfio-pci; with managed='yes' vmkit binds it to vfio-pci around the run, and a `<mac>` is set on the VF
 * through its PF before QEMU starts (process/managed-hostdevs.ts), as libvirt does.
 */
function readHostdevNic(state: ReadState, nic: XmlElement, at: string): DraftNic | undefined {
  const { ctx } = state;
  const out: DraftNic = { type: 'hostdev' };
  ctx.map(child(at, 'type'), { el: nic, attr: 'type' });
  if (enumAttr(ctx, nic, 'managed', ['yes', 'no']) === 'yes') out.managed = put(state, child(at, 'managed'), { el: nic, attr: 'managed' }, true);
  const mac = ctx.child(nic, 'mac');
  if (mac !== undefined) {
    const address = ctx.attr(mac, 'address');
    if (address === undefined) ctx.error({ el: mac, attr: 'address' }, '<mac> needs address, like 52:54:00:12:34:56');
    else out.mac = put(state, child(at, 'mac'), { el: mac, attr: 'address' }, address);
  }
  const driver = ctx.child(nic, 'driver');
  if (driver !== undefined) {
    const name = ctx.attr(driver, 'name');
    if (name !== 'vfio') ctx.unsupported({ el: driver, attr: 'name' }, `Device assignment driver ${name ?? '?'} is not supported; vmkit uses vfio`);
  }
  const source = ctx.child(nic, 'source');
  const addr = source === undefined ? undefined : ctx.child(source, 'address');
  if (addr === undefined) {
    ctx.error(source ?? nic, "<interface type='hostdev'> needs the VF's PCI address: <source><address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x2'/></source>");
    ctx.claim(child(at, 'host'));
  } else {
    const host = pciAddress(state, addr);
    if (host !== undefined) out.host = put(state, child(at, 'host'), addr, host);
    else ctx.claim(child(at, 'host'));
  }
  for (const el of ['model', 'mtu', 'target', 'portForward'] as const) {
    for (const x of ctx.children(nic, el)) ctx.unsupported(x, `<${el}> does not apply to an assigned device: the guest sees the real NIC; remove it`);
  }
  readLink(state, nic);
  const bootIndex = readDeviceBoot(state, nic, at);
  if (bootIndex !== undefined) out.boot_index = bootIndex;
  const address = readGuestAddress(state, nic, at, ['pci']);
  if (address !== undefined) out.address = address;
  return out;
}

/** `<portForward proto address><range start to/></portForward>`: host port `start` -> guest port `to` (default `start`). */
function readForward(state: ReadState, pf: XmlElement, listAt: string, out: DraftForward[]): void {
  const { ctx } = state;
  const proto = enumAttr(ctx, pf, 'proto', ['tcp', 'udp']);
  if (proto === undefined && ctx.attr(pf, 'proto') === undefined) ctx.error({ el: pf, attr: 'proto' }, '<portForward> needs proto', { expected: "'tcp' or 'udp'" });
  const address = ctx.attr(pf, 'address');
  const ranges = ctx.children(pf, 'range');
  for (const r of ranges) {
    const at = child(listAt, out.length);
    const start = intAttr(ctx, r, 'start', { min: 1, max: 65535 });
    const to = intAttr(ctx, r, 'to', { min: 1, max: 65535 });
    const end = ctx.attr(r, 'end');
    if (end !== undefined) ctx.unsupported({ el: r, attr: 'end' }, 'Port ranges are not supported yet; forward one port per <range>');
    if (ctx.attr(r, 'exclude') !== undefined) ctx.unsupported({ el: r, attr: 'exclude' }, 'Excluded ports are not supported yet');
    if (start === undefined) {
      if (ctx.attr(r, 'start') === undefined) ctx.error({ el: r, attr: 'start' }, '<range> needs start, the host port');
      continue;
    }
    ctx.map(at, r);
    ctx.map(child(at, 'host'), { el: r, attr: 'start' });
    ctx.map(child(at, 'guest'), { el: r, attr: to === undefined ? 'start' : 'to' });
    // libvirt listens on every host address when none is given.
    out.push({ host: start, guest: to ?? start, protocol: proto ?? 'tcp', address: address ?? '0.0.0.0' });
    if (address !== undefined) ctx.map(child(at, 'address'), { el: pf, attr: 'address' });
  }
  if (ranges.length === 0) ctx.error(pf, '<portForward> needs at least one <range start=... to=.../>');
}
