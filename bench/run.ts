/** `npm run bench`: every benchmark, as ratios against bare QEMU measured in the same run. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bareRun, resolveAccel, specFor, vmkitRun, withDirs } from './boot.js';
import { alternate, table, type Row } from './stats.js';
import { REPO } from '../test/helpers/guest.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
/** BENCH_ONLY=a,b,caps,tuning,daemon,cli,observe,images,migration limits the run to some groups (a: paused start, b: boots, caps, tuning, daemon: defines and start storms through `vmkit daemon`, cli: whole `vmkit` processes, observe: /metrics and console viewers through `vmkit daemon --web`, images: template download and overlays). */
const ONLY = (process.env.BENCH_ONLY ?? '').split(',').filter((s) => s !== '');
const wanted = (group: string): boolean => ONLY.length === 0 || ONLY.includes(group);

async function main(): Promise<void> {
  const rows: Row[] = [];
  let extra = '';
  const pausedAccel = await resolveAccel('auto');
  await withDirs(async (dir, conn) => {
    const paused = await specFor('bench-paused', { machine: 'q35', accel: pausedAccel, action: 'poweroff' });
    if (wanted('a')) rows.push(await alternate(`(a) start → QMP answers, paused q35 (${pausedAccel})`, 1.05, RUNS, () => bareRun(paused, pausedAccel, dir, 'qmp'), () => vmkitRun(conn, paused, 'qmp')));
    if (wanted('tuning')) {
      const { tuningBench } = await import('./tuning.js');
      extra += `\n## Tuning (issue 4)\n\n${(await tuningBench(conn, RUNS)).markdown}\n`;
    }
    for (const machine of wanted('b') ? ['q35', 'microvm'] : []) {
      const spec = await specFor(`bench-${machine}`, { machine, accel: 'tcg', action: 'poweroff' });
      rows.push(await alternate(`(b) boot → banner, ${machine} (tcg)`, 1.05, RUNS, () => bareRun(spec, 'tcg', dir, 'banner'), () => vmkitRun(conn, spec, 'banner')));
    }
  });
  if (wanted('cli')) {
    const { cliBench } = await import('./cli.js');
    const cli = await cliBench({ runs: RUNS });
    rows.push(...cli.rows);
    extra += `\n## CLI start-up (issue 13)\n\n${cli.markdown}\n`;
  }
  if (wanted('caps')) {
    const { capsBench } = await import('./caps.js');
    extra += `\n## Host capabilities (issue 3)\n\n${(await capsBench({ runs: RUNS })).markdown}\n`;
  }
  if (wanted('images')) {
    const { imagesBench } = await import('./images.js');
    const images = await imagesBench({ runs: RUNS });
    rows.push(...images.rows);
    extra += `\n## Images and volumes (issue 15)\n\n${images.markdown}\n`;
  }
  if (wanted('daemon')) {
    const { daemonBenchmarks } = await import('./daemon.js');
    extra += `\n${(await daemonBenchmarks()).markdown}\n`;
  }
  if (wanted('observe')) {
    const { observeBench } = await import('./observe.js');
    extra += `\n${(await observeBench({ runs: Math.max(RUNS, 20) })).markdown}\n`;
  }
  if (wanted('migration')) {
    const { migrationBench } = await import('./migration.js');
    const mig = await migrationBench(Math.min(RUNS, 6));
    rows.push(...mig.rows);
    extra += `\n## Live migration (issue 17)\n\n${mig.markdown}\n`;
  }
  const md = `# vmkit benchmark ${new Date().toISOString()}\n\n${RUNS} runs per side, alternating A/B, after one warm-up each.\n\n${table(rows)}\n${extra}`;
  process.stdout.write(`\n${md}`);
  const out = join(REPO, 'bench', 'results');
  await mkdir(out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  await writeFile(join(out, `boot-${stamp}.md`), md);
  await writeFile(join(out, `boot-${stamp}.json`), JSON.stringify({ runs: RUNS, rows }, null, 2));
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
