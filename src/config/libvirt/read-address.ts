/**
 * `<address>`: host PCI addresses of assigned devices (`<source><address domain bus slot function>`) and the
 * guest addresses `virsh dumpxml` puts on every device: `type='pci'` (bus = a PCI controller's index,
 * `multifunction`) and `type='drive'` (controller, bus, target, unit). A guest address becomes the native
 * `address` string (`pci:0000:07:00.0`, `drive:0:0:0:1`); the resolvers check it against the buses. Pure.
 */
import type { DriveAddressSpec, PciAddressSpec } from '../../model/domain.js';
import { formatAddress } from '../../model/pci.js';
import { child } from '../pointer.js';
import type { ReadState } from './draft.js';
import { enumAttr, intAttr } from './read-values.js';
import type { XmlElement } from './xml-tree.js';

const PCI_FIELDS = [
  ['domain', 0xffff, 4],
  ['bus', 0xff, 2],
  ['slot', 0x1f, 2],
  ['function', 7, 1],
] as const;

/** The four PCI fields of `addr` (decimal or 0x hex; domain defaults to 0), or undefined (reported). */
export function readPciFields(state: ReadState, addr: XmlElement, what: 'host' | 'guest'): Omit<PciAddressSpec, 'type' | 'multifunction'> | undefined {
  const { ctx } = state;
  const type = ctx.attr(addr, 'type');
  if (type !== undefined && type !== 'pci') ctx.error({ el: addr, attr: 'type' }, `A ${what} PCI device address has type pci`, { found: type });
  const out: Record<string, number> = {};
  let ok = true;
  for (const [name, max, width] of PCI_FIELDS) {
    const v = ctx.attr(addr, name);
    const n = v === undefined ? (name === 'domain' || (what === 'guest' && name === 'function') ? 0 : undefined) : /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : undefined;
    if (n === undefined || n > max) {
      ctx.error({ el: addr, attr: name }, `Invalid PCI ${name}`, { expected: `a number from 0 to 0x${max.toString(16)}, like 0x${'0'.repeat(width - 1)}1`, found: v === undefined ? 'nothing' : JSON.stringify(v) });
      ok = false;
      continue;
    }
    out[name] = n;
  }
  return ok ? { domain: out['domain'] as number, bus: out['bus'] as number, slot: out['slot'] as number, function: out['function'] as number } : undefined;
}

/** `<address domain bus slot function>` of a host device -> `0000:00:07.0`. */
export function hostPciAddress(state: ReadState, addr: XmlElement): string | undefined {
  const f = readPciFields(state, addr, 'host');
  if (f === undefined) return undefined;
  const h = (n: number, w: number): string => n.toString(16).padStart(w, '0');
  return `${h(f.domain, 4)}:${h(f.bus, 2)}:${h(f.slot, 2)}.${f.function}`;
}

/**
 * The guest `<address>` child of a device, as the native `address` at `<at>/address`; undefined when there
 * is none or it cannot be used (reported). `kinds` says which address types the device can have.
 */
export function readGuestAddress(state: ReadState, el: XmlElement, at: string, kinds: readonly ('pci' | 'drive')[]): string | undefined {
  const { ctx } = state;
  const addr = ctx.child(el, 'address');
  if (addr === undefined) return undefined;
  const type = ctx.attr(addr, 'type');
  const pointer = child(at, 'address');
  if (type === undefined || !(kinds as readonly string[]).includes(type)) {
    const want = kinds.map((k) => `type='${k}'`).join(' or ');
    if (type === undefined) ctx.error({ el: addr, attr: 'type' }, `<address> needs its type: ${want}`);
    else ctx.unsupported(addr, `A <${el.name}> address of type '${type}' is not supported; vmkit places this device with ${want}`, { found: type });
    ctx.useAll(addr);
    ctx.claim(pointer);
    return undefined;
  }
  let spec: PciAddressSpec | DriveAddressSpec | undefined;
  if (type === 'pci') {
    const f = readPciFields(state, addr, 'guest');
    const mf = enumAttr(ctx, addr, 'multifunction', ['on', 'off']);
    if (f !== undefined) spec = { type: 'pci', ...f, ...(mf === 'on' ? { multifunction: true } : {}) };
  } else {
    const n = (name: string): number | undefined => intAttr(ctx, addr, name, { min: 0, max: 99999 }) ?? (ctx.attr(addr, name) === undefined ? 0 : undefined);
    const [controller, bus, target, unit] = [n('controller'), n('bus'), n('target'), n('unit')];
    if (controller !== undefined && bus !== undefined && target !== undefined && unit !== undefined) spec = { type: 'drive', controller, bus, target, unit };
  }
  if (spec === undefined) {
    ctx.claim(pointer);
    return undefined;
  }
  ctx.map(pointer, addr);
  return formatAddress(spec);
}
