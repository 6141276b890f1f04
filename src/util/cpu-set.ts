/**
 * The one CPU-set syntax vmkit reads and writes, pure: the kernel's `0-3,8` (sysfs, cgroup cpuset files)
 * plus libvirt's exclusions `1-4,^2`. Exclusions apply after every inclusion, whatever their order. Lists
 * are returned sorted and without duplicates. Used for definitions (cpusets, NUMA nodes) and host files.
 */
import { VmkitError } from '../errors.js';

/** Largest CPU (or NUMA node) number accepted: Linux's NR_CPUS is at most 8192. */
export const MAX_CPU = 8191;

const ITEM_RE = /^(\^)?(\d+)(?:-(\d+))?$/;

export interface ParseCpuSetOptions {
  /**
   * Accept text that selects no CPU and return [] (an empty kernel cpuset file). Default false: a
   * definition's CPU set must select at least one CPU.
   */
  readonly allowEmpty?: boolean;
}

function fail(text: string, reason: string): never {
  throw new VmkitError('InvalidArgument', `Cannot parse CPU set ${JSON.stringify(text)}: ${reason}`, { details: { value: text } });
}

/** Parses a CPU set into a sorted list of unique CPU numbers. Throws InvalidArgument naming the bad part. */
export function parseCpuSet(text: string, opts: ParseCpuSetOptions = {}): number[] {
  const trimmed = text.trim();
  if (trimmed === '') {
    if (opts.allowEmpty === true) return [];
    fail(text, 'it is empty; write CPU numbers like "0-3,^2,6"');
  }
  const include = new Set<number>();
  const exclude = new Set<number>();
  for (const raw of trimmed.split(',')) {
    const item = raw.trim();
    const m = ITEM_RE.exec(item);
    if (m === null) fail(text, `${item === '' ? 'an empty item' : JSON.stringify(item)} is not a CPU number, range "N-M" or exclusion "^N"`);
    const from = Number(m[2]);
    const to = m[3] === undefined ? from : Number(m[3]);
    if (to < from) fail(text, `range "${item}" ends before it starts`);
    if (to > MAX_CPU) fail(text, `CPU ${to} is beyond the supported maximum ${MAX_CPU}`);
    const target = m[1] === undefined ? include : exclude;
    for (let cpu = from; cpu <= to; cpu++) target.add(cpu);
  }
  const cpus = [...include].filter((c) => !exclude.has(c)).sort((a, b) => a - b);
  if (cpus.length === 0 && opts.allowEmpty !== true) fail(text, 'it selects no CPU');
  return cpus;
}

/** Formats CPUs compactly, as the kernel does: `[3,0,1,2,8]` -> `"0-3,8"`; `[]` -> `""`. */
export function formatCpuSet(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i] as number;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) end = sorted[++i] as number;
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
