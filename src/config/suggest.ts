/** "Did you mean" suggestions for misspelt keys. Pure. */

function normalize(s: string): string {
  return s.toLowerCase().replace(/[-_]/g, '');
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
function distance(a: string, b: string): number {
  // Three rows of the table: i - 2, i - 1 and i.
  let older = new Int32Array(b.length + 1);
  let prev = new Int32Array(b.length + 1);
  let row = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, (older[j - 2] as number) + 1);
      row[j] = v;
    }
    [older, prev, row] = [prev, row, older];
  }
  return prev[b.length] as number;
}

/**
 * The candidate closest to `word`, or undefined when none is close enough. Case, `-` and `_` are ignored
 * (`bootIndex` -> `boot_index`), and adjacent swaps count as one edit (`memroy` -> `memory`).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = normalize(word);
  const limit = Math.max(1, Math.floor(Math.max(w.length, 3) / 3));
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const n = normalize(c);
    // The distance is at least the difference in length: skip what cannot be close (and long words cheaply).
    if (Math.abs(n.length - w.length) > limit) continue;
    const score = distance(w, n);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return bestScore <= limit ? best : undefined;
}
