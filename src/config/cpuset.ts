/**
 * libvirt cpuset syntax: comma-separated CPU numbers and ranges, `^N` (or `^N-M`) to exclude:
 * `"1-4,^2,8"` -> [1, 3, 4, 8]. Exclusions apply after all inclusions, whatever their order. Pure.
 */
import { VmkitError } from '../errors.js';

/** Largest CPU (or NUMA node) number accepted; Linux's NR_CPUS maximum is 8192. */
export const MAX_CPU = 8191;

const ITEM_RE = /^(\^)?(\d+)(?:-(\d+))?$/;

function fail(text: string, reason: string): never {
  throw new VmkitError('InvalidArgument', `Cannot parse CPU set ${JSON.stringify(text)}: ${reason}`, {
    details: { value: text },
  });
}

/** Parses a cpuset string into a sorted list of unique CPU numbers. Throws on bad syntax or an empty result. */
export function parseCpuSet(text: string): number[] {
  if (text.trim() === '') fail(text, 'it is empty; write CPU numbers like "0-3,^2,6"');
  const include = new Set<number>();
  const exclude = new Set<number>();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    const m = ITEM_RE.exec(item);
    if (m === null) {
      fail(text, `${item === '' ? 'an empty item' : JSON.stringify(item)} is not a CPU number, range "N-M" or exclusion "^N"`);
    }
    const from = Number(m[2]);
    const to = m[3] === undefined ? from : Number(m[3]);
    if (to < from) fail(text, `range "${item}" ends before it starts`);
    if (to > MAX_CPU) fail(text, `CPU ${to} is beyond the supported maximum ${MAX_CPU}`);
    const target = m[1] === undefined ? include : exclude;
    for (let cpu = from; cpu <= to; cpu++) target.add(cpu);
  }
  const cpus = [...include].filter((c) => !exclude.has(c)).sort((a, b) => a - b);
  if (cpus.length === 0) fail(text, 'it selects no CPU');
  return cpus;
}

/** Formats a sorted CPU list compactly (`[0,1,2,5]` -> `"0-2,5"`). */
export function formatCpuSet(cpus: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < cpus.length) {
    const start = cpus[i] as number;
    let end = start;
    while (i + 1 < cpus.length && cpus[i + 1] === end + 1) end = cpus[++i] as number;
    parts.push(start === end ? `${start}` : `${start}-${end}`);
    i++;
  }
  return parts.join(',');
}
