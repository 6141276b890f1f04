/**
 * Capability benchmarks (for `npm run bench`; the runner calls capsBench()):
 *  - cold probe: one QEMU process + one QMP session, spawn to exit;
 *  - warm look-up: CapsCache.lookup() by name with the entry in memory (target ≤ 1 ms), and from the cache
 *    file (a new process with a warm disk cache);
 *  - validation of a spec against the caps;
 *  - start → QMP answers, paused q35, bare QEMU vs vmkit without (a) and with (c) the capability check on a
 *    warm cache, rotated in one run: (c) must not be worse than (a).
 * The vmkit side of (c) runs checkSpecAgainstHost() then start(); once the driver does the look-up inside
 * start() itself, the extra call here is one more warm look-up (well under a millisecond).
 * Run alone: `node dist/bench/caps.js`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { CapsCache, checkSpecAgainstHost, probeQemu, validateAgainstCaps } from '../src/host/caps/index.js';
import { benchAccel } from './accel.js';
import { bareRun, specFor, vmkitRun, withDirs } from './boot.js';
import { ratio, summarize, table, type Row, type Summary } from './stats.js';

export const QEMU = 'qemu-system-x86_64';

export interface CapsBenchResult {
  /** The accelerator of the paused starts: KVM where usable, else TCG (see bench/accel.ts). */
  readonly accel: 'kvm' | 'tcg';
  /** Cold probe, ms. */
  readonly coldProbeMs: Summary;
  /** Warm look-up by name, entry in memory, µs per look-up. */
  readonly warmLookupUs: Summary;
  /** Look-up by a new CapsCache whose file is on disk (a new process), µs. */
  readonly fileLookupUs: Summary;
  /** validateAgainstCaps() of the benchmark spec, µs. */
  readonly validateUs: Summary;
  /** A/B rows in the runner's table format: (c) start → QMP answers with a warm caps check. */
  readonly rows: readonly Row[];
  /** A markdown section with all of the above. */
  readonly markdown: string;
}

async function timeUs(n: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - t0) * 1000) / n;
}

export async function capsBench(opts: { runs?: number } = {}): Promise<CapsBenchResult> {
  const runs = opts.runs ?? Number(process.env.BENCH_RUNS ?? 10);
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-caps-'));
  try {
    const binary = await new CapsCache({ cacheDir: dir }).resolve(QEMU);

    // Cold probes: one warm-up (page cache), then `runs` probes, each a new QEMU.
    await probeQemu(binary, { tmpDir: dir });
    const cold: number[] = [];
    for (let i = 0; i < Math.max(3, Math.min(runs, 10)); i++) {
      const t0 = performance.now();
      await probeQemu(binary, { tmpDir: dir });
      cold.push(performance.now() - t0);
    }

    const cacheDir = join(dir, 'cache');
    const cache = new CapsCache({ cacheDir });
    const caps = await cache.lookup(QEMU);
    const warm: number[] = [];
    for (let i = 0; i < 10; i++) warm.push(await timeUs(500, () => cache.lookup(QEMU)));
    const file: number[] = [];
    for (let i = 0; i < 10; i++) file.push(await timeUs(1, () => new CapsCache({ cacheDir }).lookup(QEMU)));

    const { accel, note } = await benchAccel('Start → QMP answers (rows a and c)');
    process.stderr.write(`bench: ${note}\n`);
    const spec = await specFor('bench-caps', { machine: 'q35', accel, action: 'poweroff' });
    const validate: number[] = [];
    for (let i = 0; i < 10; i++) validate.push(await timeUs(50, () => validateAgainstCaps(spec, caps)));

    const rows: Row[] = [];
    await withDirs(async (bareDir, conn) => {
      const bare = (): Promise<number> => bareRun(spec, accel, bareDir, 'qmp');
      const plain = (): Promise<number> => vmkitRun(conn, spec, 'qmp');
      const checked = async (): Promise<number> => {
        // The check as an operation does it (one look-up + validation), then start() until QMP answers.
        const t0 = performance.now();
        await checkSpecAgainstHost(spec, { cache });
        const checkMs = performance.now() - t0;
        return checkMs + (await vmkitRun(conn, spec, 'qmp'));
      };
      // One warm-up each, then the three in rotating order so no side always goes first.
      const sides = [bare, plain, checked];
      for (const side of sides) await side();
      const samples: number[][] = [[], [], []];
      for (let i = 0; i < runs; i++) {
        for (let j = 0; j < 3; j++) {
          const k = (i + j) % 3;
          (samples[k] as number[]).push(await (sides[k] as () => Promise<number>)());
        }
      }
      const [a, p, c] = samples.map((x) => summarize(x)) as [Summary, Summary, Summary];
      rows.push({ name: `(a) start → QMP answers, paused q35 (${accel}), no caps check`, bare: a, vmkit: p, target: 1.05 });
      rows.push({ name: `(c) start → QMP answers, paused q35 (${accel}), warm caps check`, bare: a, vmkit: c, target: 1.05 });
    });

    const r = {
      accel,
      coldProbeMs: summarize(cold),
      warmLookupUs: summarize(warm),
      fileLookupUs: summarize(file),
      validateUs: summarize(validate),
      rows,
    };
    const f = (s: Summary, unit: string): string => `${s.median.toFixed(1)} ${unit} (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)}, n=${s.n})`;
    const markdown = [
      '## QEMU capabilities',
      '',
      `- cold probe of ${binary} (one QEMU, one QMP session): ${f(r.coldProbeMs, 'ms')}`,
      `- warm look-up by name, in memory: ${f(r.warmLookupUs, 'µs')} — target ≤ 1000 µs ${r.warmLookupUs.median <= 1000 ? '✓' : '✗'}`,
      `- look-up from the cache file (new process): ${f(r.fileLookupUs, 'µs')}`,
      `- validateAgainstCaps (tiny q35 spec): ${f(r.validateUs, 'µs')}`,
      '',
      table(rows),
      '',
      note,
      '',
      `The caps check adds ${rows.length === 2 ? ((ratio(rows[1] as Row) - ratio(rows[0] as Row)) * 100).toFixed(1) : '?'} points to the vmkit/bare ratio (c − a, same run, same bare samples).`,
      '',
    ].join('\n');
    return { ...r, markdown };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  capsBench().then(
    (r) => process.stdout.write(r.markdown),
    (e: unknown) => {
      process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
