/**
 * libvirt's scaled integers (`<memory unit='GiB'>4</memory>`): a whole number and a unit. As in libvirt's
 * virScaleInteger: `b`/`bytes`; `K`/`KiB` (and M, G, T, P, E) are powers of 1024, `KB`/`MB`/... powers of
 * 1000, case-insensitive; no unit means the element's default (KiB for memory). Pure.
 */

const POWERS = 'kmgtpe';

export const UNIT_TEXT = 'b, bytes, KiB, MiB, GiB, TiB (powers of 1024; K, M, G also), or KB, MB, GB, TB (powers of 1000)';

/** Bytes per unit, or undefined for an unknown unit. */
export function unitScale(unit: string): number | undefined {
  const u = unit.toLowerCase();
  if (u === 'b' || u === 'byte' || u === 'bytes') return 1;
  const power = POWERS.indexOf(u.charAt(0)) + 1;
  if (power === 0) return undefined;
  const rest = u.slice(1);
  const base = rest === '' || rest === 'ib' ? 1024 : rest === 'b' ? 1000 : undefined;
  return base === undefined ? undefined : base ** power;
}

export type Scaled = { readonly bytes: number } | { readonly error: 'value' | 'unit' | 'range' };

/** `value` (a whole number) times the unit's scale. */
export function scaledBytes(value: string, unit: string | undefined, defaultUnit: string): Scaled {
  const v = value.trim();
  if (!/^\d+$/.test(v)) return { error: 'value' };
  const scale = unitScale(unit ?? defaultUnit);
  if (scale === undefined) return { error: 'unit' };
  const bytes = Number(v) * scale;
  if (!Number.isSafeInteger(bytes)) return { error: 'range' };
  return { bytes };
}

const MIB = 1024 * 1024;

/** Whole MiB, rounded up, as libvirt aligns guest memory sizes on x86 (to 1 MiB). */
export function ceilMiB(bytes: number): number {
  return Math.ceil(bytes / MIB);
}
