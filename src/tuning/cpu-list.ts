/**
 * CPU list syntax, pure: the kernel's `0-3,8` (sysfs, cgroup cpuset files) plus libvirt's exclusions
 * `1-4,^2`. Lists are returned sorted and without duplicates.
 */
import { VmkitError } from '../errors.js';

const MAX_CPU = 65535;

/**
 * Parses `0-3,8-11`, `1-4,^2`, `7` or `` (empty: no CPUs). Exclusions (`^N` or `^N-M`) remove CPUs
 * named anywhere else in the list. Throws InvalidArgument naming the bad part.
 */
export function parseCpuList(text: string): number[] {
  const include = new Set<number>();
  const exclude = new Set<number>();
  const trimmed = text.trim();
  if (trimmed === '') return [];
  for (const raw of trimmed.split(',')) {
    const part = raw.trim();
    const neg = part.startsWith('^');
    const body = neg ? part.slice(1) : part;
    const m = /^(\d+)(?:-(\d+))?$/.exec(body);
    if (m === null) {
      throw new VmkitError('InvalidArgument', `Cannot parse CPU list '${text}': '${part}' is not a CPU number, a range like 2-5, or an exclusion like ^3`);
    }
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new VmkitError('InvalidArgument', `Cannot parse CPU list '${text}': range '${part}' ends before it starts`);
    if (hi > MAX_CPU) throw new VmkitError('InvalidArgument', `Cannot parse CPU list '${text}': CPU ${hi} is beyond ${MAX_CPU}`);
    for (let c = lo; c <= hi; c++) (neg ? exclude : include).add(c);
  }
  return [...include].filter((c) => !exclude.has(c)).sort((a, b) => a - b);
}

/** Formats CPUs as the kernel does: `[3,0,1,2,8]` -> `0-3,8`; `[]` -> ``. */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i]!;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) end = sorted[++i]!;
    parts.push(start === end ? `${start}` : `${start}-${end}`);
    i++;
  }
  return parts.join(',');
}

/** Sorted union of CPU lists. */
export function unionCpus(...lists: readonly (readonly number[])[]): number[] {
  return [...new Set(lists.flat())].sort((a, b) => a - b);
}

/** Sorted `a` minus `b`. */
export function subtractCpus(a: readonly number[], b: readonly number[]): number[] {
  const drop = new Set(b);
  return [...new Set(a)].filter((c) => !drop.has(c)).sort((x, y) => x - y);
}
