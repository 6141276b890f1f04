/**
 * Progress of downloads and copies: a bar (bytes, rate, ETA) on a terminal (cli-progress), a plain line every
 * 10% or 5 s otherwise, one JSON object per event with --json (all on stderr; the result goes to stdout).
 */
import type { Progress } from '../../images/types.js';
import { humanSize } from '../../images/list-format.js';

export interface ProgressSink {
  onProgress(p: Progress): void;
  done(): void;
}

const LABEL = { download: 'Downloading', copy: 'Copying', seed: 'Writing seed' } as const;

function eta(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '--';
  const t = Math.round(s);
  return t < 60 ? `${t}s` : `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
}

export async function progressSink(flags: { json?: boolean; quiet?: boolean }): Promise<ProgressSink> {
  if (flags.quiet === true) return { onProgress: () => undefined, done: () => undefined };
  if (flags.json === true) {
    return { onProgress: (p) => process.stderr.write(`${JSON.stringify({ type: 'progress', ...p })}\n`), done: () => undefined };
  }
  if (process.stderr.isTTY === true) {
    const { SingleBar } = (await import('cli-progress')).default;
    let bar: InstanceType<typeof SingleBar> | undefined;
    let phase = '';
    const finish = (): void => {
      bar?.stop();
      bar = undefined;
    };
    return {
      onProgress(p) {
        const key = `${p.phase} ${p.what}`;
        const payload = { label: LABEL[p.phase], have: humanSize(p.bytes), size: p.total === undefined ? '?' : humanSize(p.total), rate: `${humanSize(Math.round(p.rate))}/s`, left: eta(p.etaS) };
        if (key !== phase) {
          finish();
          phase = key;
          process.stderr.write(`${LABEL[p.phase]}: ${p.what}${p.resumedAt === undefined ? '' : ` (resuming at ${humanSize(p.resumedAt)})`}\n`);
          bar = new SingleBar({ stream: process.stderr, format: ' {bar} {percentage}% | {have}/{size} | {rate} | ETA {left}', hideCursor: true, clearOnComplete: false, barsize: 30 });
          bar.start(p.total ?? p.bytes, p.bytes, payload);
        }
        if (p.total !== undefined) bar?.setTotal(p.total);
        bar?.update(p.bytes, payload);
      },
      done: finish,
    };
  }
  let phase = '';
  let lastPct = -1;
  let lastAt = 0;
  return {
    onProgress(p) {
      const key = `${p.phase} ${p.what}`;
      const pct = p.total === undefined || p.total === 0 ? undefined : Math.floor((p.bytes / p.total) * 100);
      const now = Date.now();
      if (key !== phase) {
        phase = key;
        lastPct = -1;
        process.stderr.write(`vmkit: ${LABEL[p.phase].toLowerCase()} ${p.what}${p.resumedAt === undefined ? '' : ` (resuming at byte ${p.resumedAt})`}\n`);
      }
      const step = pct === undefined ? now - lastAt >= 5000 : Math.floor(pct / 10) > Math.floor(lastPct / 10) || now - lastAt >= 5000;
      if (!step) return;
      lastPct = pct ?? lastPct;
      lastAt = now;
      process.stderr.write(`vmkit: ${pct === undefined ? '' : `${pct}% `}${humanSize(p.bytes)}${p.total === undefined ? '' : ` of ${humanSize(p.total)}`}, ${humanSize(Math.round(p.rate))}/s, ETA ${eta(p.etaS)}\n`);
    },
    done: () => undefined,
  };
}
