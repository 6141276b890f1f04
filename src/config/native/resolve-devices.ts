/**
 * Native YAML: the serial port's backend, the VNC display, the balloon, RNGs, assigned PCI devices, and the
 * checks that span device kinds (PCI addresses used once, explicit boot indexes unique and not mixed with
 * `boot.order`). Pure.
 */
import type { Static } from '@sinclair/typebox';
import type { BalloonSpec, BootSpec, DiskSpec, GraphicsSpec, HostdevSpec, NicSpec, RngSpec, SerialSpec } from '../../model/domain.js';
import { child } from '../pointer.js';
import type { Loose, ResolveContext } from '../resolve-context.js';
import { resolvePciAddress } from './resolve-addresses.js';
import type { BalloonInput, DomainInputT, HostdevInput, RngInput } from './schema.js';

export const DEFAULT_VNC_LISTEN = '127.0.0.1';
export const DEFAULT_RNG_SOURCE = '/dev/urandom';
/** `sun_path` holds 108 bytes including the terminating NUL. */
export const UNIX_PATH_MAX = 107;

/** Host PCI address -> who uses it, across `nics` and `hostdevs`. */
export type PciOwners = Map<string, string>;

/** `03:10.2` / `0000:03:10.2` (any case) -> `0000:03:10.2`; reports a device used twice. */
export function normalizePci(value: string | undefined, pointer: string, owner: string, owners: PciOwners, ctx: ResolveContext): string | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  const host = /^[0-9a-f]{4}:/.test(v) ? v : `0000:${v}`;
  const prev = owners.get(host);
  if (prev !== undefined) {
    ctx.problems.add(pointer, { message: `PCI device ${host} is already assigned by ${prev}; a device can be assigned once`, found: JSON.stringify(value) });
  } else {
    owners.set(host, owner);
  }
  return host;
}

/** A path QEMU gets inside QemuOpts: no control characters (a newline would end up in a file name QEMU creates). */
function checkPath(value: string, pointer: string, ctx: ResolveContext): boolean {
  const bad = /[\x00-\x1f\x7f]/.exec(value);
  if (bad !== null) {
    ctx.problems.add(pointer, {
      message: `The path contains a control character (${JSON.stringify(bad[0])} at position ${bad.index}); vmkit does not pass such paths to QEMU`,
      expected: 'a path without newlines, tabs or other control characters',
      found: JSON.stringify(value),
    });
    return false;
  }
  return true;
}

export function resolveSerial(input: Loose<DomainInputT['serial']>, ctx: ResolveContext): SerialSpec {
  if (input === undefined || input === 'console') return { mode: 'console' };
  if (input === 'none') return { mode: 'none' };
  const path = input.path === undefined ? '' : ctx.path(input.path);
  if (input.path !== undefined) checkPath(path, '/serial/path', ctx);
  if (input.type === 'file') return { mode: 'file', path, append: (input as { append?: boolean }).append ?? false };
  const bytes = Buffer.byteLength(path);
  if (input.path !== undefined && bytes > UNIX_PATH_MAX) {
    ctx.problems.add('/serial/path', {
      message: `A unix socket path holds at most ${UNIX_PATH_MAX} bytes; this one is ${bytes} bytes${path === input.path ? '' : ' once resolved against the definition\'s directory'}`,
      expected: `a path of at most ${UNIX_PATH_MAX} bytes`,
      found: JSON.stringify(path),
    });
  }
  return { mode: 'unix', path, server: (input as { server?: boolean }).server ?? true };
}

export function resolveGraphics(input: Loose<DomainInputT['graphics']>): GraphicsSpec {
  if (input === undefined || input === 'none') return { type: 'none' };
  if (input === 'vnc') return { type: 'vnc', listen: DEFAULT_VNC_LISTEN, display: 0 };
  const display = input.display ?? 0;
  const videoAddress = resolvePciAddress(input.video_address);
  return { type: 'vnc', listen: input.listen ?? DEFAULT_VNC_LISTEN, ...(display === 'auto' ? {} : { display }), ...(videoAddress === undefined ? {} : { videoAddress }) };
}

export function resolveBalloon(input: Loose<Static<typeof BalloonInput>> | undefined): BalloonSpec | undefined {
  if (input === undefined || input === false) return undefined;
  if (input === true) return { autodeflate: false, freePageReporting: false };
  const address = resolvePciAddress(input.address);
  return {
    ...(input.stats_period === undefined || input.stats_period === 0 ? {} : { statsPeriod: input.stats_period }),
    autodeflate: input.autodeflate ?? false,
    freePageReporting: input.free_page_reporting ?? false,
    ...(address === undefined ? {} : { address }),
  };
}

export function resolveRngs(input: Loose<readonly (Static<typeof RngInput> | undefined)[]> | undefined, ctx: ResolveContext): RngSpec[] {
  const out: RngSpec[] = [];
  (input ?? []).forEach((r, i) => {
    if (r === undefined) return;
    const address = resolvePciAddress(r.address);
    const addr = address === undefined ? {} : { address };
    if (r.backend === 'builtin') {
      out.push({ backend: 'builtin', ...addr });
      return;
    }
    const source = ctx.path((r as { source?: string }).source ?? DEFAULT_RNG_SOURCE);
    checkPath(source, child(child('/rngs', i), 'source'), ctx);
    out.push({ backend: 'random', source, ...addr });
  });
  return out;
}

export function resolveHostdevs(input: Loose<readonly (Static<typeof HostdevInput> | undefined)[]> | undefined, pci: PciOwners, ctx: ResolveContext): HostdevSpec[] {
  const out: HostdevSpec[] = [];
  (input ?? []).forEach((h, i) => {
    if (h === undefined) return;
    const at = child('/hostdevs', i);
    const host = normalizePci(h.host, child(at, 'host'), `hostdevs[${i}]`, pci, ctx);
    const address = resolvePciAddress(h.address);
    out.push({
      host: host ?? '',
      ...(h.boot_index === undefined ? {} : { bootIndex: h.boot_index }),
      ...(h.managed === true ? { managed: true } : {}),
      ...(address === undefined ? {} : { address }),
    });
  });
  return out;
}

/**
 * Explicit boot indexes of NICs and host devices: firmware boot only, not together with `boot.order`, and
 * unique across disks, NICs and host devices (QEMU refuses a bootindex used twice).
 */
export function checkDeviceBoot(env: { boot: BootSpec | undefined; disks: readonly DiskSpec[]; nics: readonly NicSpec[]; hostdevs: readonly HostdevSpec[] }, ctx: ResolveContext): void {
  const owners = new Map<number, string>();
  env.disks.forEach((d, i) => {
    if (d.bootIndex !== undefined && !owners.has(d.bootIndex)) owners.set(d.bootIndex, `disks[${i}]`);
  });
  const check = (index: number | undefined, pointer: string, who: string): void => {
    if (index === undefined) return;
    const at = child(pointer, 'boot_index');
    if (env.boot?.kind === 'kernel') {
      ctx.problems.add(at, { message: 'boot_index only applies to firmware boot, but this domain boots a kernel directly; remove it' });
      return;
    }
    if (env.boot?.kind === 'firmware' && env.boot.order.length > 0) {
      ctx.problems.add(at, { message: `Use either boot.order or per-device boot_index (${who}), not both` });
      return;
    }
    const prev = owners.get(index);
    if (prev !== undefined) {
      ctx.problems.add(at, { message: `boot_index ${index} is already used by ${prev}; boot indices must be unique across disks, NICs and host devices`, found: String(index) });
      return;
    }
    owners.set(index, who);
  };
  env.nics.forEach((n, i) => check(n.bootIndex, child('/nics', i), `nics[${i}]`));
  env.hostdevs.forEach((h, i) => check(h.bootIndex, child('/hostdevs', i), `hostdevs[${i}]`));
}
