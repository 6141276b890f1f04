/**
 * What resolvers share: the problem list, the base directory for relative paths, which input values failed
 * schema validation, and small typed readers (sizes, cpusets, paths) that report their own problems. Pure
 * (node:path only resolves strings).
 */
import { isAbsolute, resolve } from 'node:path';
import { isVmkitError } from '../errors.js';
import { parseCpuSet } from '../util/cpu-set.js';
import { InvalidSet } from './prune.js';
import type { Problems } from './problems.js';
import { formatSize, MiB, parseSize } from './size.js';

/** Input after schema validation and pruning: every key may be missing, list slots may be empty. */
export type Loose<T> = T extends readonly (infer U)[]
  ? readonly (Loose<U> | undefined)[]
  : T extends object
    ? { readonly [K in keyof T]?: Loose<T[K]> | undefined }
    : T;

export class ResolveContext {
  readonly problems: Problems;
  readonly baseDir: string;
  readonly #invalid: InvalidSet;

  constructor(problems: Problems, baseDir: string, invalid: readonly string[]) {
    this.problems = problems;
    this.baseDir = resolve(baseDir);
    this.#invalid = new InvalidSet(invalid);
  }

  /** True when the value at `pointer`, or one inside it or around it, failed schema validation. */
  broken(pointer: string): boolean {
    return this.#invalid.touches(pointer);
  }

  /** Absolute paths stay verbatim; relative ones are resolved against the definition's directory. */
  path(p: string): string {
    return isAbsolute(p) ? p : resolve(this.baseDir, p);
  }

  /** A size given as a string with unit or a number of MiB, in whole MiB; reports and returns undefined on error. */
  sizeMiB(value: string | number | undefined, pointer: string, opts: { minMiB?: number } = {}): number | undefined {
    if (value === undefined) return undefined;
    let bytes: number;
    try {
      bytes = parseSize(value, 'M');
    } catch (e) {
      if (!isVmkitError(e)) throw e;
      this.problems.add(pointer, { message: 'Cannot parse size', expected: 'a size like "512M", "2G" or a number of MiB', found: JSON.stringify(value) });
      return undefined;
    }
    if (bytes % MiB !== 0) {
      this.problems.add(pointer, { message: 'Sizes must be whole MiB here', expected: 'a multiple of 1M', found: `${JSON.stringify(value)} (${formatSize(bytes)})` });
      return undefined;
    }
    const mib = bytes / MiB;
    if (opts.minMiB !== undefined && mib < opts.minMiB) {
      this.problems.add(pointer, { message: `Too small: at least ${opts.minMiB} MiB is needed`, expected: `>= ${opts.minMiB}M`, found: JSON.stringify(value) });
      return undefined;
    }
    return mib;
  }

  /** A size in bytes (string with unit, or a number of MiB). */
  sizeBytes(value: string | number | undefined, pointer: string): number | undefined {
    const mib = typeof value === 'number' ? value : undefined;
    if (mib !== undefined) return mib * MiB;
    if (value === undefined) return undefined;
    try {
      return parseSize(value, 'M');
    } catch (e) {
      if (!isVmkitError(e)) throw e;
      this.problems.add(pointer, { message: 'Cannot parse size', expected: 'a size like "64M", "1G" or a number of MiB', found: JSON.stringify(value) });
      return undefined;
    }
  }

  /** A cpuset string or a single number; reports and returns undefined on error. */
  cpus(value: string | number | undefined, pointer: string): number[] | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'number') return [value];
    try {
      return parseCpuSet(value);
    } catch (e) {
      if (!isVmkitError(e)) throw e;
      this.problems.add(pointer, {
        message: e.message.replace(/^Cannot parse CPU set "[^"]*": /, 'Invalid cpuset: '),
        expected: 'CPU numbers and ranges like "0-3,^2,6"',
        found: JSON.stringify(value),
      });
      return undefined;
    }
  }
}
