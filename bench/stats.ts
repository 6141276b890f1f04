/** Summary statistics for a list of samples (milliseconds). */
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly p90: number;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))] ?? NaN;
  const mid = s.length % 2 === 1 ? at(0.5) : ((s[s.length / 2 - 1] ?? NaN) + (s[s.length / 2] ?? NaN)) / 2;
  return { n: s.length, median: mid, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, p90: at(0.9) };
}

export interface Row {
  readonly name: string;
  readonly bare: Summary;
  readonly vmkit: Summary;
  readonly target: number;
}

export function ratio(r: Row): number {
  return r.vmkit.median / r.bare.median;
}

const f = (n: number): string => n.toFixed(1);

export function table(rows: readonly Row[]): string {
  const head = '| measurement | bare median (min–max) ms | vmkit median (min–max) ms | ratio vmkit/bare | target |\n| --- | --- | --- | --- | --- |';
  const lines = rows.map(
    (r) =>
      `| ${r.name} | ${f(r.bare.median)} (${f(r.bare.min)}–${f(r.bare.max)}) | ${f(r.vmkit.median)} (${f(r.vmkit.min)}–${f(r.vmkit.max)}) | ${ratio(r).toFixed(3)} | ≤ ${r.target.toFixed(2)} ${ratio(r) <= r.target ? '✓' : '✗'} |`,
  );
  return [head, ...lines].join('\n');
}

/**
 * An A/B comparison in one run: one warm-up each (page cache, first-exec costs), then `runs` alternating
 * pairs whose order flips every pair, so drift on a shared host falls on both sides.
 */
export async function alternate(
  name: string,
  target: number,
  runs: number,
  bare: () => Promise<number>,
  vmkit: () => Promise<number>,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<Row> {
  await bare();
  await vmkit();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      a.push(await bare());
      b.push(await vmkit());
    } else {
      b.push(await vmkit());
      a.push(await bare());
    }
  }
  const row = { name, bare: summarize(a), vmkit: summarize(b), target };
  log(`bench: ${name}: bare ${row.bare.median.toFixed(1)} ms, vmkit ${row.vmkit.median.toFixed(1)} ms`);
  return row;
}
