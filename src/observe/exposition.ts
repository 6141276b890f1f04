/**
 * The Prometheus text exposition format (version 0.0.4) for metric families computed at scrape time.
 * prom-client renders its own metrics (histograms); families of thousands of per-domain series are written
 * here directly, a string per line. Pure.
 */
export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

export interface FamilyText {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly samples: readonly Sample[];
}

/** `\`, `"` and newlines escaped, as a label value must be. */
export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** One family: HELP and TYPE, then a line per sample (a family without samples is HELP and TYPE only). */
export function writeFamily(f: FamilyText): string {
  let out = `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
  for (const s of f.samples) {
    let labels = '';
    for (const k in s.labels) labels += `${labels === '' ? '' : ','}${k}="${escapeLabelValue(s.labels[k] as string)}"`;
    out += `${f.name}${labels === '' ? '' : `{${labels}}`} ${formatValue(s.value)}\n`;
  }
  return out;
}
