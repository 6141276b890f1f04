/**
 * Tuning cost (issue 4): the time a plan for 4 vCPUs + 1 iothread adds to a start, and the processes forked
 * while applying it (target: ≤ 2 ms, 0 forks).
 *  - direct: on one paused QEMU, read the threads (QMP + /proc), plan, apply, N times (undo in between);
 *    forks counted with the kernel's fork counter (/proc/stat `processes`) around each apply;
 *  - A/B: vmkit start → QMP answers, paused, with and without the tuning section, alternating.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseDefinition } from '../src/config/index.js';
import type { Connection } from '../src/driver/connection.js';
import type { DomainSpec } from '../src/model/domain.js';
import { readHostTopology } from '../src/host/topology.js';
import { applyTuning, parseQemuThreads, planTuning, readThreadIds } from '../src/tuning/index.js';
import { summarize, type Summary } from './stats.js';
import { tinyYaml } from '../test/helpers/guest.js';
import { vmkitRun } from './boot.js';

async function forkCount(): Promise<number> {
  const stat = await readFile('/proc/stat', 'utf8');
  return Number(/^processes (\d+)/m.exec(stat)?.[1] ?? NaN);
}

export interface TuningBench {
  readonly applyMs: Summary;
  readonly forksDuringApply: number;
  readonly withTuning: Summary;
  readonly withoutTuning: Summary;
  readonly markdown: string;
}

function spec(name: string, tuned: boolean, cpus: number): DomainSpec {
  const pin = cpus > 1 ? '"1"' : '"0"';
  const tuning = tuned
    ? ['tuning:', `  pinning: { vcpus: { 0: ${pin}, 1: ${pin}, 2: ${pin}, 3: ${pin} }, emulator: "0", iothreads: { io0: ${pin} } }`, '  scheduler: { vcpus: { policy: batch }, iothreads: { policy: batch } }']
    : [];
  const yaml = tinyYaml({ name, vcpus: 4, extra: ['iothreads: 1', ...tuning].join('\n') });
  return parseDefinition(yaml, { baseDir: process.cwd() });
}

export async function tuningBench(conn: Connection, runs: number): Promise<TuningBench> {
  const cpus = (await readHostTopology()).cpus.filter((c) => c.online).length;
  const tuned = spec('bench-tuned', true, cpus);
  const plain = spec('bench-plain', false, cpus);

  // Direct: apply the plan repeatedly to one paused QEMU.
  const d = await conn.define({ spec: plain });
  await d.start({ paused: true });
  const qmp = d.process?.qmp;
  const pid = d.pid ?? -1;
  if (qmp === undefined) throw new Error('no QMP');
  const topo = await readHostTopology();
  const apply: number[] = [];
  let forks = 0;
  for (let i = 0; i < Math.max(runs, 10); i++) {
    const before = await forkCount();
    const t0 = performance.now();
    const [cpusFast, iothreads, all] = await Promise.all([qmp.execute('query-cpus-fast'), qmp.execute('query-iothreads'), readThreadIds(pid)]);
    const plan = planTuning(tuned, parseQemuThreads(cpusFast, iothreads, all), topo);
    const applied = await applyTuning(pid, plan, { vmName: 'bench' });
    apply.push(performance.now() - t0);
    forks += (await forkCount()) - before;
    await applied.undo();
  }
  await d.destroy({ graceMs: 0 });

  // A/B through the whole start.
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      a.push(await vmkitRun(conn, plain, 'qmp'));
      b.push(await vmkitRun(conn, tuned, 'qmp'));
    } else {
      b.push(await vmkitRun(conn, tuned, 'qmp'));
      a.push(await vmkitRun(conn, plain, 'qmp'));
    }
  }
  const r = { applyMs: summarize(apply), forksDuringApply: forks, withTuning: summarize(b), withoutTuning: summarize(a) };
  const f = (s: Summary): string => `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
  const markdown = [
    '| tuning, 4 vCPUs + 1 iothread | median (min–max) ms | target |',
    '| --- | --- | --- |',
    `| read threads + plan + apply (direct, ${apply.length} runs) | ${f(r.applyMs)} | ≤ 2 ms ${r.applyMs.median <= 2 ? '✓' : '✗'} |`,
    `| processes forked during those applies (kernel fork counter, whole host) | ${forks} | 0 ${forks === 0 ? '✓' : '✗ (other host activity counts too)'} |`,
    `| start → QMP answers, paused, with tuning | ${f(r.withTuning)} | |`,
    `| start → QMP answers, paused, without tuning | ${f(r.withoutTuning)} | |`,
    `| added by tuning (difference of medians) | ${(r.withTuning.median - r.withoutTuning.median).toFixed(2)} | ≤ 2 ms |`,
    '',
    'QEMU runs paused under TCG on every machine (the guest never runs): these figures need no KVM and are the same kind with or without /dev/kvm.',
  ].join('\n');
  return { ...r, markdown };
}
