/**
 * "Did you mean" for capability names (machine types, CPU models, device drivers). Pure.
 * Unlike config/suggest.ts (one closest key), this returns up to a few names, and counts a candidate that
 * contains the word (`q35` in `pc-q35-7.2`, `Skylake` in `Skylake-Client`) as close.
 */

function normalize(s: string): string {
  return s.toLowerCase().replace(/[-_]/g, '');
}

/** Optimal string alignment distance (insertions, deletions, substitutions, adjacent swaps). */
function distance(a: string, b: string): number {
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, (prev2[j - 2] as number) + 1);
      cur.push(v);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length] as number;
}

/**
 * Up to `max` (default 3) candidates close to `word`, best first: small edit distance (case, `-` and `_`
 * ignored), or containing the word / contained in it. Empty when nothing is close.
 */
export function closestNames(word: string, candidates: Iterable<string>, opts: { max?: number } = {}): string[] {
  const max = opts.max ?? 3;
  const w = normalize(word);
  if (w === '') return [];
  const limit = Math.max(1, Math.floor(w.length / 3));
  const scored: { name: string; score: number }[] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c)) continue;
    seen.add(c);
    const n = normalize(c);
    let score = Infinity;
    // Containment: closer when the lengths are closer.
    if (w.length >= 2 && (n.includes(w) || (n.length >= 3 && w.includes(n)))) score = 0.5 + Math.abs(n.length - w.length) / 100;
    if (Math.abs(n.length - w.length) <= limit) {
      const d = distance(w, n);
      if (d <= limit) score = Math.min(score, d);
    }
    if (score !== Infinity) scored.push({ name: c, score });
  }
  scored.sort((a, b) => a.score - b.score || a.name.length - b.name.length || a.name.localeCompare(b.name));
  // Only names about as close as the best one: `virtio-rng-pci` for `virtio-rng-pcie`, not `virtio-9p-pci` too.
  const best = scored[0]?.score ?? 0;
  return scored.filter((s) => s.score <= best + 1).slice(0, max).map((s) => s.name);
}

/** `a`, `a or b`, `a, b or c` */
export function orList(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1] as string}`;
}

/** Machine type families whose versions stand for the same hardware (x86). */
export type MachineFamily = 'q35' | 'i440fx' | 'microvm';

const CHIPSETS: readonly (readonly [string, MachineFamily])[] = [
  ['q35', 'q35'],
  ['i440fx', 'i440fx'],
];

/**
 * The family a machine type name belongs to, from its shape, whether or not this binary has it:
 * `pc-q35-rhel9.2.0` (RHEL's build) and `q35` are q35; `pc`, `pc-1.0` and `pc-i440fx-*` are i440fx;
 * a misspelt chipset (`pc-q99`) counts as the closest one. Undefined for anything else.
 */
export function machineFamily(name: string): MachineFamily | undefined {
  const n = name.toLowerCase();
  if (n.startsWith('microvm')) return 'microvm';
  if (n === 'pc' || /^pc-\d/.test(n)) return 'i440fx';
  const chipset = /^(?:pc-)?([a-z][a-z0-9]*)/.exec(n)?.[1];
  if (chipset === undefined) return undefined;
  const exact = CHIPSETS.find(([c]) => chipset === c);
  if (exact !== undefined) return exact[1];
  if (!n.startsWith('pc-')) return undefined;
  // `pc-<chipset>...` with a chipset vmkit does not know: the closest, if it is close (q99 -> q35).
  let best: { family: MachineFamily; d: number } | undefined;
  for (const [c, family] of CHIPSETS) {
    const d = distance(chipset, c);
    if (d <= Math.max(2, Math.floor(c.length / 2)) && (best === undefined || d < best.d)) best = { family, d };
  }
  return best?.family;
}

function inFamily(name: string, family: MachineFamily): boolean {
  switch (family) {
    case 'q35':
      return name.startsWith('pc-q35-');
    case 'i440fx':
      return name.startsWith('pc-i440fx-') || /^pc-\d/.test(name);
    case 'microvm':
      return name === 'microvm';
  }
}

/** `7.2` -> [7, 2]; names without a trailing version sort first. */
function versionOf(name: string): number[] {
  return (/(\d+(?:\.\d+)*)$/.exec(name)?.[1] ?? '').split('.').filter((x) => x !== '').map(Number);
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * For a machine type this binary lacks: the newest machine type of the same family on this binary, with
 * its alias (`pc-q35-7.2 (or q35)`), as one suggestion; undefined when the name has no family or the
 * binary has none of it (then plain closestNames() applies).
 */
export function machineFamilySuggestion(
  name: string,
  machines: readonly { readonly name: string; readonly alias?: string; readonly deprecated: boolean }[],
): string | undefined {
  const family = machineFamily(name);
  if (family === undefined) return undefined;
  const members = machines.filter((m) => inFamily(m.name, family));
  const newest = [...members].sort((a, b) => Number(a.deprecated) - Number(b.deprecated) || compareVersions(versionOf(b.name), versionOf(a.name)))[0];
  if (newest === undefined) return undefined;
  const alias = newest.alias ?? members.find((m) => m.alias !== undefined)?.alias;
  return alias === undefined || alias === newest.name ? newest.name : `${newest.name} (or ${alias})`;
}
