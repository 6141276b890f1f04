/**
 * `<interface>`: type='user' (slirp, with libvirt's `<portForward>` for host ports) and type='ethernet' on an
 * existing tap (`<target dev='tap0' managed='no'/>`). Without `<model>` libvirt gives x86 guests an rtl8139,
 * and so does vmkit here. Pure.
 */
import { child } from '../pointer.js';
import { put, type DraftForward, type DraftNic, type ReadState } from './draft.js';
import { enumAttr, intAttr } from './read-values.js';
import type { XmlElement } from './xml-tree.js';

/** libvirt's NIC model for x86 guests without `<model>`. */
export const LIBVIRT_DEFAULT_NIC_MODEL = 'rtl8139';

const NOT_YET: Readonly<Record<string, string>> = {
  network: 'libvirt virtual networks need libvirtd to set up bridges and DHCP',
  bridge: 'vmkit does not create tap devices or join bridges',
  direct: 'macvtap devices are not created by vmkit',
  hostdev: 'SR-IOV VF assignment needs host-side MAC setup and driver binding',
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

function readNic(state: ReadState, nic: XmlElement, i: number): DraftNic | undefined {
  const { ctx } = state;
  const at = child('/nics', i);
  ctx.map(at, nic);
  const type = ctx.attr(nic, 'type');
  if (type === undefined) {
    ctx.error({ el: nic, attr: 'type' }, '<interface> needs type', { expected: "'user' or 'ethernet'" });
    ctx.useAll(nic);
    return undefined;
  }
  if (type !== 'user' && type !== 'ethernet') {
    const why = NOT_YET[type];
    ctx.drop({ el: nic, attr: 'type' }, `Interfaces of type '${type}' are not supported yet${why === undefined ? '' : ` (${why})`}; use type='user', or type='ethernet' with an existing tap device`);
    return undefined;
  }
  const out: DraftNic = type === 'user' ? { type: 'user' } : { type: 'tap' };
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
  } else {
    const forwards: DraftForward[] = [];
    for (const pf of ctx.children(nic, 'portForward')) readForward(state, pf, child(at, 'forwards'), forwards);
    if (forwards.length > 0) out.forwards = forwards;
  }
  const boot = ctx.child(nic, 'boot');
  if (boot !== undefined) ctx.unsupported(boot, 'Network boot order per interface is not supported yet; use <os><boot dev="network"/>');
  const address = ctx.child(nic, 'address');
  if (address !== undefined) ctx.unsupported(address, 'Fixed guest device addresses (<address>) are not supported yet; vmkit places devices on their bus itself');
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
