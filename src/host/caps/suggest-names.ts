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
