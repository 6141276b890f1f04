/**
 * Size strings as QEMU and libvirt users write them: `256M`, `2G`, `512MiB`, `1.5G`, `4096` (in the default
 * unit). All units are binary (K = 1024). Pure.
 */
import { VmkitError } from '../errors.js';

export type SizeUnit = 'B' | 'K' | 'M' | 'G';

const SHIFT: Readonly<Record<string, number>> = { B: 0, K: 10, M: 20, G: 30, T: 40, P: 50, E: 60 };
const SIZE_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(?:([KMGTPE])(?:i?B)?|(B))?\s*$/i;

/**
 * Parses a size to bytes. A bare number (or a numeric string without unit) is in `defaultUnit` (bytes unless
 * given). Units: B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T, P, E, case-insensitive, all powers of 1024.
 * Throws VmkitError('InvalidArgument') for anything else, negative values, fractions of a byte, or values
 * beyond Number.MAX_SAFE_INTEGER.
 */
export function parseSize(text: string | number, defaultUnit: SizeUnit = 'B'): number {
  let amount: number;
  let unit: string = defaultUnit;
  if (typeof text === 'number') {
    amount = text;
  } else {
    const m = SIZE_RE.exec(text);
    if (m === null) {
      throw new VmkitError(
        'InvalidArgument',
        `Cannot parse size ${JSON.stringify(text)}: expected a number with an optional unit B, K, M, G, T (powers of 1024), like "512M" or "2G"`,
      );
    }
    amount = Number(m[1]);
    if (m[2] !== undefined) unit = m[2].toUpperCase();
    else if (m[3] !== undefined) unit = 'B';
  }
  if (!Number.isFinite(amount) || amount < 0) {
    throw new VmkitError('InvalidArgument', `Cannot parse size ${String(text)}: expected a non-negative number`);
  }
  const bytes = amount * 2 ** (SHIFT[unit] ?? 0);
  if (!Number.isInteger(bytes)) {
    throw new VmkitError('InvalidArgument', `Cannot parse size ${JSON.stringify(text)}: it is not a whole number of bytes`);
  }
  if (!Number.isSafeInteger(bytes)) {
    throw new VmkitError('InvalidArgument', `Cannot parse size ${JSON.stringify(text)}: it is too large`);
  }
  return bytes;
}

export const MiB = 1024 * 1024;

/** Formats bytes with the largest binary unit that divides them exactly (`2G`, `1536M`, `100B`). */
export function formatSize(bytes: number): string {
  for (const [unit, shift] of [['G', 30], ['M', 20], ['K', 10]] as const) {
    if (bytes !== 0 && bytes % 2 ** shift === 0) return `${bytes / 2 ** shift}${unit}`;
  }
  return `${bytes}B`;
}
