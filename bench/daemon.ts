/**
 * Daemon benchmarks (issue 5), against a real `vmkit daemon` child process and bare QEMU in the same run:
 *  - define 256 domains with 16 disks each, through the daemon API and through the embedded library
 *    (defines/s; processes forked while defining);
 *  - start N paused domains concurrently (-S, 32 MiB) and destroy them, N = 64 then 256: wall time as a
 *    ratio to spawning the same QEMU argvs directly in parallel; per-start latency; the daemon's
 *    event-loop delay sampled throughout;
 *  - daemon RSS with 256 defined domains, and per running domain.
 * `daemonBenchmarks()` returns the markdown and the figures; `node dist/bench/daemon.js` runs it alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { RemoteConnection } from '../src/api/client.js';
import { parseDefinition } from '../src/config/index.js';
import { daemonArgs, daemonSpec, hasConsole } from '../src/driver/daemon-args.js';
import { openEmbedded } from '../src/driver/connection.js';
import { resolveAccel } from '../src/host/accel.js';
import { argvContext } from '../src/process/argv-context.js';
import { runDirPaths } from '../src/process/state-dir.js';
import { buildArgv } from '../src/qemu/argv/index.js';
import { QmpListener } from '../src/qmp/index.js';
import { spawnDaemon, type DaemonProc } from '../test/api/daemon-process.js';
import { countSpawns, killQemusUnder, manyDisksYaml } from '../test/driver/fixtures.js';
import { tinyYaml } from '../test/helpers/guest.js';

export interface DaemonBenchOptions {
  /** Concurrent start counts (default [64, 256]; BENCH_DAEMON_COUNTS=64,256). */
  readonly counts?: readonly number[];
  /** Domains defined (default 256) with `disks` disks each (default 16). */
  readonly defines?: number;
  readonly disks?: number;
  readonly log?: (line: string) => void;
  /** `vmkit daemon --nice` value ('' for none; default none; BENCH_DAEMON_NICE). */
  readonly nice?: string;
}

export interface StartFigures {
  readonly n: number;
  readonly bareMs: number;
  readonly vmkitMs: number;
  readonly ratio: number;
  readonly startP50Ms: number;
  readonly startP99Ms: number;
  readonly destroyMs: number;
  readonly eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** An idle Node process at the same priority, sampled during the bare and the vmkit storm. */
  readonly referenceDelayMs: { readonly bare: { p50: number; p99: number; max: number }; readonly vmkit: { p50: number; p99: number; max: number } };
  readonly rssRunningBytes: number;
  /** RSS with the N domains defined, just before they start. */
  readonly rssDefinedBytes: number;
}

export interface DaemonBenchResult {
  readonly define: {
    readonly n: number;
    readonly disks: number;
    readonly daemonMs: number;
    readonly daemonPerSec: number;
    readonly embeddedMs: number;
    readonly embeddedPerSec: number;
    readonly embeddedForks: number;
    readonly systemForksDuringDaemonDefine: number;
    readonly eventLoopDelayMs: { p50: number; p99: number; max: number };
  };
  readonly starts: readonly StartFigures[];
  readonly rss: { readonly idleBytes: number; readonly defined256Bytes: number; readonly perDefinedBytes: number; readonly perRunningBytes: number };
  readonly markdown: string;
}

const MiB = 1024 * 1024;

function pct(samples: readonly number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
}

async function systemForks(): Promise<number> {
  const text = await readFile('/proc/stat', 'utf8');
  return Number(/^processes\s+(\d+)/m.exec(text)?.[1] ?? NaN);
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) * 1024;
}

function pausedText(name: string, accel: string): string {
  return tinyYaml({ name, action: 'wait' }).replace('accel: tcg', `accel: ${accel}`).replace('memory: 256M', 'memory: 32M');
}

/** Bare QEMU: the daemon's argv for each domain, spawned directly, all at once; resolves when every QMP answered. */
async function bareStarts(dir: string, texts: readonly string[]): Promise<number> {
  const prepared = await Promise.all(
    texts.map(async (text, i) => {
      const spec = parseDefinition(text, { baseDir: process.cwd() });
      const rd = runDirPaths(join(dir, `b${i}`));
      await mkdir(rd.dir, { recursive: true });
      const argv = [...buildArgv(daemonSpec(spec), await argvContext(spec, rd)), ...daemonArgs(rd, hasConsole(spec))];
      return { rd, argv, emulator: spec.emulator };
    }),
  );
  const children: ChildProcess[] = [];
  const t0 = performance.now();
  try {
    await Promise.all(
      prepared.map(async ({ rd, argv, emulator }) => {
        const listener = await QmpListener.listen(rd.qmpSocket);
        const child = spawn(emulator, argv, { stdio: 'ignore' });
        children.push(child);
        const qmp = await listener.accept({ timeoutMs: 180_000 });
        await qmp.execute('query-status');
        await listener.close();
        await qmp.close();
      }),
    );
    return performance.now() - t0;
  } finally {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((r) => {
            if (c.exitCode !== null || c.signalCode !== null) return r();
            c.once('close', () => r());
            c.kill('SIGKILL');
          }),
      ),
    );
  }
}

/**
 * A reference: an idle Node process that only samples its own event-loop lateness (2 ms timer), at the
 * daemon's nice value. What it sees during a start storm is what the host imposes on any process.
 */
function referenceSampler(nice: string): { stop: () => Promise<{ p50: number; p99: number; max: number }> } {
  const script = `
    const { createHistogram } = require('node:perf_hooks');
    const { setPriority } = require('node:os');
    const nice = process.argv[process.argv.length - 1];
    try { if (nice !== '' && nice !== '--') setPriority(process.pid, Number(nice)); } catch {}
    const h = createHistogram(); let exp = performance.now() + 2;
    const tick = () => { const n = performance.now(); h.record(Math.max(1, Math.round((n - exp) * 1000))); exp = n + 2; setTimeout(tick, 2); };
    setTimeout(tick, 2);
    process.on('SIGTERM', () => { process.stdout.write(JSON.stringify({ p50: h.percentile(50) / 1000, p99: h.percentile(99) / 1000, max: h.max / 1000 })); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', script, '--', nice], { stdio: ['ignore', 'pipe', 'inherit'] });
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return {
    stop: async () => {
      child.kill('SIGTERM');
      await closed;
      try {
        return JSON.parse(out) as { p50: number; p99: number; max: number };
      } catch {
        return { p50: NaN, p99: NaN, max: NaN };
      }
    },
  };
}

export async function daemonBenchmarks(opts: DaemonBenchOptions = {}): Promise<DaemonBenchResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`bench: ${l}\n`));
  const counts = opts.counts ?? (process.env.BENCH_DAEMON_COUNTS ?? '64,256').split(',').filter((c) => c !== '').map(Number);
  const nDefine = opts.defines ?? 256;
  const nDisks = opts.disks ?? 16;
  const base = await mkdtemp(join(tmpdir(), 'vmkit-bench-d-'));
  const root = join(base, 'root');
  let daemon: DaemonProc | undefined;
  try {
    // ---- define: the embedded library (exact fork count) ----
    const emb = await openEmbedded({ root: join(base, 'embedded') });
    const texts = Array.from({ length: nDefine }, (_, i) => manyDisksYaml(`def${i}`, nDisks));
    let t0 = performance.now();
    const { spawns } = await countSpawns(() => Promise.all(texts.map((text) => emb.define({ text }))));
    const embeddedMs = performance.now() - t0;
    await emb.close();
    log(`define ${nDefine}×${nDisks} disks, embedded: ${embeddedMs.toFixed(0)} ms, ${spawns.length} processes forked`);

    // ---- define: through the daemon ----
    const nice = opts.nice ?? (process.env.BENCH_DAEMON_NICE ?? '');
    daemon = await spawnDaemon(join(base, 'd.sock'), root, nice === '' ? [] : [`--nice=${nice}`]);
    log(`daemon started${nice === '' ? '' : ` with --nice=${nice} (daemon threads; QEMU runs at the normal priority)`}`);
    const conn = await RemoteConnection.open(daemon.socket);
    const idleBytes = await rssOf(daemon.pid);
    await conn.resetDaemonStats();
    const forks0 = await systemForks();
    t0 = performance.now();
    await Promise.all(texts.map((text) => conn.define({ text })));
    const daemonMs = performance.now() - t0;
    const forks = (await systemForks()) - forks0;
    const defineEld = (await conn.daemonStatus()).eventLoopDelayMs;
    await new Promise((r) => setTimeout(r, 200));
    const defined256Bytes = await rssOf(daemon.pid);
    log(`define ${nDefine}×${nDisks} disks, daemon: ${daemonMs.toFixed(0)} ms (${((nDefine / daemonMs) * 1000).toFixed(0)}/s); RSS ${(defined256Bytes / MiB).toFixed(1)} MiB`);
    await Promise.all(conn.list().map((d) => conn.undefine(d.name)));

    // ---- start N paused domains concurrently, against bare QEMU ----
    const accel = await resolveAccel('auto');
    const starts: StartFigures[] = [];
    for (const n of counts) {
      const names = Array.from({ length: n }, (_, i) => `p${n}-${i}`);
      const pausedTexts = names.map((nm) => pausedText(nm, accel));
      await Promise.all(pausedTexts.map((text) => conn.define({ text })));
      const bareDir = await mkdtemp(join(base, 'bare-'));
      const refBare = referenceSampler(nice);
      const bareMs = await bareStarts(bareDir, pausedTexts);
      const referenceBare = await refBare.stop();
      await rm(bareDir, { recursive: true, force: true });
      log(`start ${n} paused, bare QEMU: ${bareMs.toFixed(0)} ms`);
      await new Promise((r) => setTimeout(r, 500));
      const rssDefinedBytes = await rssOf(daemon.pid);
      await conn.resetDaemonStats();
      const refVmkit = referenceSampler(nice);
      const lat: number[] = [];
      t0 = performance.now();
      await Promise.all(
        names.map(async (nm) => {
          const s = performance.now();
          await conn.lookup(nm).start({ paused: true, timeoutMs: 180_000 });
          lat.push(performance.now() - s);
        }),
      );
      const vmkitMs = performance.now() - t0;
      const eld = (await conn.daemonStatus()).eventLoopDelayMs;
      const referenceVmkit = await refVmkit.stop();
      const rssRunningBytes = await rssOf(daemon.pid);
      t0 = performance.now();
      await Promise.all(names.map((nm) => conn.lookup(nm).destroy({ graceMs: 2000 })));
      const destroyMs = performance.now() - t0;
      await Promise.all(names.map((nm) => conn.undefine(nm)));
      const fig: StartFigures = {
        n,
        bareMs,
        vmkitMs,
        ratio: vmkitMs / bareMs,
        startP50Ms: pct(lat, 0.5),
        startP99Ms: pct(lat, 0.99),
        destroyMs,
        eventLoopDelayMs: { p50: eld.p50, p99: eld.p99, max: eld.max },
        referenceDelayMs: { bare: referenceBare, vmkit: referenceVmkit },
        rssRunningBytes,
        rssDefinedBytes,
      };
      starts.push(fig);
      log(`start ${n} paused, vmkit daemon: ${vmkitMs.toFixed(0)} ms (ratio ${fig.ratio.toFixed(3)}), start p50 ${fig.startP50Ms.toFixed(0)} ms p99 ${fig.startP99Ms.toFixed(0)} ms, event loop p99 ${eld.p99} ms max ${eld.max} ms`);
      log(`  reference idle process: during bare p99 ${referenceBare.p99} ms max ${referenceBare.max} ms; during vmkit p99 ${referenceVmkit.p99} ms max ${referenceVmkit.max} ms`);
    }
    await conn.close();
    const biggest = starts[starts.length - 1];
    const result = {
      define: {
        n: nDefine,
        disks: nDisks,
        daemonMs,
        daemonPerSec: (nDefine / daemonMs) * 1000,
        embeddedMs,
        embeddedPerSec: (nDefine / embeddedMs) * 1000,
        embeddedForks: spawns.length,
        systemForksDuringDaemonDefine: forks,
        eventLoopDelayMs: { p50: defineEld.p50, p99: defineEld.p99, max: defineEld.max },
      },
      starts,
      rss: {
        idleBytes,
        defined256Bytes,
        perDefinedBytes: (defined256Bytes - idleBytes) / nDefine,
        perRunningBytes: biggest === undefined ? NaN : (biggest.rssRunningBytes - biggest.rssDefinedBytes) / biggest.n,
      },
    };
    return { ...result, markdown: markdown(result, accel) };
  } finally {
    if (daemon !== undefined) await daemon.stop().catch(() => undefined);
    await killQemusUnder(root);
    await rm(base, { recursive: true, force: true });
  }
}

function markdown(r: Omit<DaemonBenchResult, 'markdown'>, accel: string): string {
  const ok = (b: boolean): string => (b ? '✓' : '✗');
  const f0 = (n: number): string => n.toFixed(0);
  const lines = [
    '## Daemon',
    '',
    `Define ${r.define.n} domains with ${r.define.disks} disks each, all at once (fsync'd store):`,
    '',
    '| path | total ms | defines/s | target | processes forked |',
    '| --- | --- | --- | --- | --- |',
    `| daemon API (unix socket) | ${f0(r.define.daemonMs)} | ${f0(r.define.daemonPerSec)} | ≥ 2000 ${ok(r.define.daemonPerSec >= 2000)} | system-wide during the phase: ${r.define.systemForksDuringDaemonDefine} (other activity included) |`,
    `| embedded library | ${f0(r.define.embeddedMs)} | ${f0(r.define.embeddedPerSec)} | ≥ 2000 ${ok(r.define.embeddedPerSec >= 2000)} | ${r.define.embeddedForks} ${ok(r.define.embeddedForks === 0)} |`,
    '',
    `Daemon event-loop delay while defining: p50 ${r.define.eventLoopDelayMs.p50} ms, p99 ${r.define.eventLoopDelayMs.p99} ms, max ${r.define.eventLoopDelayMs.max} ms.`,
    '',
    `Start N paused domains concurrently (-S, 32 MiB, ${accel}) through the daemon, against spawning the same QEMU argvs directly in parallel:`,
    '',
    '| N | bare ms | vmkit ms | ratio | target | start p50 / p99 ms | daemon event loop p50 / p99 / max ms | target p99 | idle reference p99 / max ms (bare; vmkit) | destroy all ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.starts.map(
      (s) =>
        `| ${s.n} | ${f0(s.bareMs)} | ${f0(s.vmkitMs)} | ${s.ratio.toFixed(3)} | ≤ 1.15 ${ok(s.ratio <= 1.15)} | ${f0(s.startP50Ms)} / ${f0(s.startP99Ms)} | ${s.eventLoopDelayMs.p50} / ${s.eventLoopDelayMs.p99} / ${s.eventLoopDelayMs.max} | ≤ 20 ${ok(s.eventLoopDelayMs.p99 <= 20)} | ${s.referenceDelayMs.bare.p99} / ${s.referenceDelayMs.bare.max}; ${s.referenceDelayMs.vmkit.p99} / ${s.referenceDelayMs.vmkit.max} | ${f0(s.destroyMs)} |`,
    ),
    '',
    'The idle reference is a Node process that does nothing but sample its own timer lateness at the daemon\'s nice value: what the host imposes on any process during the same storm.',
    '',
    `Daemon RSS: ${(r.rss.idleBytes / MiB).toFixed(1)} MiB idle, ${(r.rss.defined256Bytes / MiB).toFixed(1)} MiB with ${r.define.n} defined domains (${(r.rss.perDefinedBytes / 1024).toFixed(1)} KiB each), ${(r.rss.perRunningBytes / 1024).toFixed(1)} KiB more per running domain (${r.starts.map((x) => `${x.n} running: ${(x.rssRunningBytes / MiB).toFixed(1)} MiB`).join(', ')}).`,
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  daemonBenchmarks().then(
    (r) => process.stdout.write(`${r.markdown}\n`),
    (e: unknown) => {
      process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
