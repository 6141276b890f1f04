/**
 * Daemon benchmarks (issue 5), against a real `vmkit daemon` child process and bare QEMU in the same run:
 *  - define 256 domains with 16 disks each, all at once, through the daemon API and through the embedded
 *    library: a warm-up round, then BENCH_DEFINE_ROUNDS (3) measured rounds (defines/s of the median round,
 *    CPU per define; processes forked while defining);
 *  - start N paused domains concurrently (-S, 32 MiB) and destroy them, N = 64 then 256: wall time as a
 *    ratio to spawning the same QEMU argvs directly in parallel; per-start latency; the daemon's
 *    event-loop delay sampled throughout;
 *  - daemon RSS with 256 defined domains, and per running domain.
 * `daemonBenchmarks()` returns the markdown and the figures; `node dist/bench/daemon.js` runs it alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { readIdentity } from '../src/host/accounts.js';
import { DEFAULT_QEMU_USER } from '../src/driver/connection.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { RemoteConnection } from '../src/api/client.js';
import { parseDefinition } from '../src/config/index.js';
import { daemonArgs, daemonSpec } from '../src/driver/daemon-args.js';
import { routesConsole } from '../src/model/domain.js';
import { openEmbedded } from '../src/driver/connection.js';
import { benchAccel } from './accel.js';
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
  /** Measured define rounds per path, after one warm-up round (default 3; BENCH_DEFINE_ROUNDS). */
  readonly defineRounds?: number;
}

type Delay = { p50: number; p99: number; max: number };

export interface StartFigures {
  readonly n: number;
  /** The mean of the two bare runs (order: bare, vmkit, vmkit, bare). */
  readonly bareMs: number;
  /** The mean of the two vmkit runs. */
  readonly vmkitMs: number;
  readonly bareRunsMs: readonly number[];
  readonly vmkitRunsMs: readonly number[];
  readonly ratio: number;
  readonly startP50Ms: number;
  readonly startP99Ms: number;
  readonly destroyMs: number;
  /** The worse of the two vmkit runs. */
  readonly eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** An idle Node process at the same priority, sampled during the bare and the vmkit storm. */
  readonly referenceDelayMs: { readonly bare: { p50: number; p99: number; max: number }; readonly vmkit: { p50: number; p99: number; max: number } };
  readonly rssRunningBytes: number;
  /** RSS with the N domains defined, just before they start. */
  readonly rssDefinedBytes: number;
}

/** One path's define figures: every round defines `n` domains at once (then they are undefined). */
export interface DefineFigures {
  /** Wall time of each measured round, ms. */
  readonly roundsMs: readonly number[];
  /** The median round. */
  readonly ms: number;
  readonly perSec: number;
  readonly bestPerSec: number;
  /** CPU time per define, ms (the defining process; for the daemon path also the client). */
  readonly cpuMsPerDefine: { readonly user: number; readonly system: number };
  readonly clientCpuMsPerDefine?: number;
}

export interface DaemonBenchResult {
  readonly define: {
    readonly n: number;
    readonly disks: number;
    readonly daemonMs: number;
    readonly daemonPerSec: number;
    readonly embeddedMs: number;
    readonly embeddedPerSec: number;
    readonly embedded: DefineFigures;
    readonly daemon: DefineFigures;
    /** Through the daemon with defineMany (one POST /v1/batch/define per round). */
    readonly daemonBatch: DefineFigures;
    /** Processes the embedded library started while defining (all measured rounds). */
    readonly embeddedForks: number;
    /** The kernel's fork counter (/proc/stat `processes`) across the daemon's measured rounds: every process of the host. */
    readonly systemForksDuringDaemonDefine: number;
    /** The same counter over one idle second just before (other activity on the host). */
    readonly backgroundForksPerSec: number;
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

/** user and system CPU of a process so far, ms (from /proc/PID/stat, in clock ticks of 10 ms). */
async function cpuOf(pid: number): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]) * 10, system: Number(f[12]) * 10 };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

/**
 * One warm-up round, then `rounds` measured rounds; each round defines `n` domains at once (as an
 * orchestrator would issue them: all concurrently) and then undefines them (not timed).
 */
async function defineRounds(
  n: number,
  disks: number,
  rounds: number,
  /** Defines all the texts of a round at once. */
  defineAll: (texts: string[]) => Promise<unknown>,
  undefineAll: () => Promise<unknown>,
  /** CPU used so far by the defining process; called before and after each round (`measured`: not the warm-up). */
  cpu: (when: 'before' | 'after', measured: boolean) => Promise<{ user: number; system: number }>,
  prefix: string,
): Promise<{ roundsMs: number[]; cpu: { user: number; system: number }; clientCpuMs: number }> {
  const roundsMs: number[] = [];
  const used = { user: 0, system: 0 };
  let clientCpuMs = 0;
  for (let r = -1; r < rounds; r++) {
    const texts = Array.from({ length: n }, (_, i) => manyDisksYaml(`${prefix}${r + 1}-${i}`, disks));
    const c0 = await cpu('before', r >= 0);
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    await defineAll(texts);
    const ms = performance.now() - t0;
    const own = process.cpuUsage(own0);
    const c1 = await cpu('after', r >= 0);
    if (r >= 0) {
      roundsMs.push(ms);
      used.user += c1.user - c0.user;
      used.system += c1.system - c0.system;
      clientCpuMs += (own.user + own.system) / 1000;
    }
    await undefineAll();
  }
  return { roundsMs, cpu: used, clientCpuMs };
}

function figures(n: number, r: { roundsMs: number[]; cpu: { user: number; system: number }; clientCpuMs: number }, client: boolean): DefineFigures {
  const ms = median(r.roundsMs);
  const count = n * r.roundsMs.length;
  return {
    roundsMs: r.roundsMs,
    ms,
    perSec: (n / ms) * 1000,
    bestPerSec: (n / Math.min(...r.roundsMs)) * 1000,
    cpuMsPerDefine: { user: r.cpu.user / count, system: r.cpu.system / count },
    ...(client ? { clientCpuMsPerDefine: r.clientCpuMs / count } : {}),
  };
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
  // As the daemon does as root, QEMU runs as vmkit-qemu (through setpriv, like the daemon's spawns).
  const id = process.geteuid?.() === 0 ? await readIdentity(DEFAULT_QEMU_USER, undefined) : undefined;
  const prepared = await Promise.all(
    texts.map(async (text, i) => {
      const spec = parseDefinition(text, { baseDir: process.cwd() });
      const rd = runDirPaths(join(dir, `b${i}`));
      await mkdir(rd.qemuDir, { recursive: true, mode: 0o711 });
      await chmod(rd.dir, 0o711);
      if (id !== undefined) await chown(rd.qemuDir, id.uid, id.gid);
      const argv = [...buildArgv(daemonSpec(spec), await argvContext(spec, rd)), ...daemonArgs(rd, routesConsole(spec))];
      return { rd, argv, emulator: spec.emulator };
    }),
  );
  const children: ChildProcess[] = [];
  const t0 = performance.now();
  try {
    await Promise.all(
      prepared.map(async ({ rd, argv, emulator }) => {
        const listener = await QmpListener.listen(rd.qmpSocket);
        if (id !== undefined) await chown(rd.qmpSocket, id.uid, id.gid);
        const asUser = id === undefined ? [] : [`--regid=${id.gid}`, `--groups=${id.groups.join(',')}`, `--reuid=${id.uid}`];
        const child = id === undefined ? spawn(emulator, argv, { stdio: 'ignore' }) : spawn('setpriv', [...asUser, '--', emulator, ...argv], { stdio: 'ignore' });
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
  await chmod(base, 0o711); // a root daemon's QEMU runs as vmkit-qemu, which must pass through
  const root = join(base, 'root');
  let daemon: DaemonProc | undefined;
  try {
    const rounds = opts.defineRounds ?? Number(process.env.BENCH_DEFINE_ROUNDS ?? 3);
    let t0: number;
    // ---- define: the embedded library (exact fork count) ----
    const emb = await openEmbedded({ root: join(base, 'embedded') });
    const ownCpu = async (): Promise<{ user: number; system: number }> => {
      const u = process.cpuUsage();
      return { user: u.user / 1000, system: u.system / 1000 };
    };
    const { result: embRounds, spawns } = await countSpawns(() =>
      defineRounds(nDefine, nDisks, rounds, (texts) => Promise.all(texts.map((text) => emb.define({ text }))), () => Promise.all(emb.list().map((d) => emb.undefine(d.name))), ownCpu, 'e'),
    );
    await emb.close();
    const embedded = figures(nDefine, embRounds, false);
    log(`define ${nDefine}×${nDisks} disks, embedded, all at once: median ${embedded.ms.toFixed(0)} ms (${embedded.perSec.toFixed(0)}/s; rounds ${embRounds.roundsMs.map((x) => x.toFixed(0)).join(', ')} ms); CPU ${embedded.cpuMsPerDefine.user.toFixed(2)} user + ${embedded.cpuMsPerDefine.system.toFixed(2)} sys ms/define; ${spawns.length} processes forked`);

    // ---- define: through the daemon ----
    const nice = opts.nice ?? (process.env.BENCH_DAEMON_NICE ?? '');
    daemon = await spawnDaemon(join(base, 'd.sock'), root, nice === '' ? [] : [`--nice=${nice}`]);
    log(`daemon started${nice === '' ? '' : ` with --nice=${nice} (daemon threads; QEMU runs at the normal priority)`}`);
    const conn = await RemoteConnection.open(daemon.socket);
    const idleBytes = await rssOf(daemon.pid);
    const daemonPid = daemon.pid;
    let forks = 0;
    let defined256Bytes = NaN;
    let defineEld = { p50: NaN, p99: NaN, max: NaN };
    let f0: number | undefined;
    // The kernel's counter is host-wide: an idle second just before gives the background rate to compare with.
    const idle0 = await systemForks();
    await new Promise((r) => setTimeout(r, 1000));
    const backgroundForksPerSec = (await systemForks()) - idle0;
    const dRounds = await defineRounds(
      nDefine,
      nDisks,
      rounds,
      (texts) => Promise.all(texts.map((text) => conn.define({ text }))),
      async () => {
        defined256Bytes = await rssOf(daemonPid);
        await Promise.all(conn.list().map((d) => conn.undefine(d.name)));
      },
      async (when, measured) => {
        // Each measured round is bracketed: forks counted and event-loop delay sampled over the define bursts only.
        if (measured && when === 'before') {
          await conn.resetDaemonStats();
          f0 = await systemForks();
        }
        const used = await cpuOf(daemonPid);
        if (measured && when === 'after') {
          forks += (await systemForks()) - (f0 ?? NaN);
          const e = (await conn.daemonStatus()).eventLoopDelayMs;
          if (!(e.max <= defineEld.max)) defineEld = { p50: e.p50, p99: e.p99, max: e.max };
        }
        return used;
      },
      'd',
    );
    const daemonFig = figures(nDefine, dRounds, true);
    log(
      `define ${nDefine}×${nDisks} disks, daemon, all at once: median ${daemonFig.ms.toFixed(0)} ms (${daemonFig.perSec.toFixed(0)}/s; rounds ${dRounds.roundsMs.map((x) => x.toFixed(0)).join(', ')} ms); daemon CPU ${daemonFig.cpuMsPerDefine.user.toFixed(2)} user + ${daemonFig.cpuMsPerDefine.system.toFixed(2)} sys ms/define, client ${(daemonFig.clientCpuMsPerDefine ?? NaN).toFixed(2)} ms/define; host forks ${forks} (idle second before: ${backgroundForksPerSec}); RSS ${(defined256Bytes / MiB).toFixed(1)} MiB`,
    );

    // ---- define: through the daemon, in batches (defineMany: POST /v1/batch/define) ----
    const bRounds = await defineRounds(
      nDefine,
      nDisks,
      rounds,
      async (texts) => {
        const out = await conn.defineMany(texts.map((text) => ({ input: { text } })));
        const bad = out.find((o) => !o.ok);
        if (bad !== undefined && !bad.ok) throw bad.error;
      },
      () => Promise.all(conn.list().map((d) => conn.undefine(d.name))),
      async () => cpuOf(daemonPid),
      'b',
    );
    const batchFig = figures(nDefine, bRounds, true);
    log(
      `define ${nDefine}×${nDisks} disks, daemon, one defineMany: median ${batchFig.ms.toFixed(0)} ms (${batchFig.perSec.toFixed(0)}/s; rounds ${bRounds.roundsMs.map((x) => x.toFixed(0)).join(', ')} ms); daemon CPU ${batchFig.cpuMsPerDefine.user.toFixed(2)} user + ${batchFig.cpuMsPerDefine.system.toFixed(2)} sys ms/define, client ${(batchFig.clientCpuMsPerDefine ?? NaN).toFixed(2)} ms/define`,
    );

    // ---- start N paused domains concurrently, against bare QEMU ----
    const { accel, note: accelNote } = await benchAccel('The paused start storms');
    log(accelNote);
    const starts: StartFigures[] = [];
    for (const n of counts) {
      const names = Array.from({ length: n }, (_, i) => `p${n}-${i}`);
      const pausedTexts = names.map((nm) => pausedText(nm, accel));
      await Promise.all(pausedTexts.map((text) => conn.define({ text })));
      // Storms of this size swing by tens of percent between runs on a shared host, so each side runs twice in
      // the order bare, vmkit, vmkit, bare (drift over time weighs on both) and the ratio is of the means.
      const bareRun = async (): Promise<{ ms: number; ref: Delay }> => {
        const bareDir = await mkdtemp(join(base, 'bare-'));
        const refBare = referenceSampler(nice);
        let ms: number;
        try {
          ms = await bareStarts(bareDir, pausedTexts);
        } catch (e) {
          await refBare.stop();
          throw e;
        } finally {
          await rm(bareDir, { recursive: true, force: true });
        }
        const ref = await refBare.stop();
        log(`start ${n} paused, bare QEMU: ${ms.toFixed(0)} ms`);
        await new Promise((r) => setTimeout(r, 500));
        return { ms, ref };
      };
      const daemonPid = daemon.pid;
      const vmkitRun = async (): Promise<{ ms: number; ref: Delay; eld: Delay; lat: number[]; rssDefined: number; rssRunning: number; destroyMs: number }> => {
        const rssDefined = await rssOf(daemonPid);
        await conn.resetDaemonStats();
        const refVmkit = referenceSampler(nice);
        const lat: number[] = [];
        const t = performance.now();
        await Promise.all(
          names.map(async (nm) => {
            const s0 = performance.now();
            await conn.lookup(nm).start({ paused: true, timeoutMs: 180_000 });
            lat.push(performance.now() - s0);
          }),
        ).catch(async (e: unknown) => {
          await refVmkit.stop();
          throw e;
        });
        const ms = performance.now() - t;
        const eld = (await conn.daemonStatus()).eventLoopDelayMs;
        const ref = await refVmkit.stop();
        const rssRunning = await rssOf(daemonPid);
        const d0 = performance.now();
        await Promise.all(names.map((nm) => conn.lookup(nm).destroy({ graceMs: 2000 })));
        const destroyMs = performance.now() - d0;
        log(`start ${n} paused, vmkit daemon: ${ms.toFixed(0)} ms, event loop p99 ${eld.p99} ms max ${eld.max} ms; destroy all ${destroyMs.toFixed(0)} ms`);
        await new Promise((r) => setTimeout(r, 500));
        return { ms, ref, eld: { p50: eld.p50, p99: eld.p99, max: eld.max }, lat, rssDefined, rssRunning, destroyMs };
      };
      const b1 = await bareRun();
      const v1 = await vmkitRun();
      const v2 = await vmkitRun();
      const b2 = await bareRun();
      await Promise.all(names.map((nm) => conn.undefine(nm)));
      const mean = (x: number, y: number): number => (x + y) / 2;
      const worst = (x: Delay, y: Delay): Delay => ({ p50: Math.max(x.p50, y.p50), p99: Math.max(x.p99, y.p99), max: Math.max(x.max, y.max) });
      const lat = [...v1.lat, ...v2.lat];
      const bareMs = mean(b1.ms, b2.ms);
      const vmkitMs = mean(v1.ms, v2.ms);
      const eld = worst(v1.eld, v2.eld);
      const referenceBare = worst(b1.ref, b2.ref);
      const referenceVmkit = worst(v1.ref, v2.ref);
      const fig: StartFigures = {
        n,
        bareMs,
        vmkitMs,
        bareRunsMs: [b1.ms, b2.ms],
        vmkitRunsMs: [v1.ms, v2.ms],
        ratio: vmkitMs / bareMs,
        startP50Ms: pct(lat, 0.5),
        startP99Ms: pct(lat, 0.99),
        destroyMs: mean(v1.destroyMs, v2.destroyMs),
        eventLoopDelayMs: eld,
        referenceDelayMs: { bare: referenceBare, vmkit: referenceVmkit },
        rssRunningBytes: v1.rssRunning,
        rssDefinedBytes: v1.rssDefined,
      };
      starts.push(fig);
      log(`start ${n} paused: bare ${bareMs.toFixed(0)} ms, vmkit ${vmkitMs.toFixed(0)} ms (means of 2; ratio ${fig.ratio.toFixed(3)}), start p50 ${fig.startP50Ms.toFixed(0)} ms p99 ${fig.startP99Ms.toFixed(0)} ms, event loop p99 ${eld.p99} ms max ${eld.max} ms`);
      log(`  reference idle process: during bare p99 ${referenceBare.p99} ms max ${referenceBare.max} ms; during vmkit p99 ${referenceVmkit.p99} ms max ${referenceVmkit.max} ms`);
    }
    await conn.close();
    const biggest = starts[starts.length - 1];
    const result = {
      define: {
        n: nDefine,
        disks: nDisks,
        daemonMs: daemonFig.ms,
        daemonPerSec: daemonFig.perSec,
        embeddedMs: embedded.ms,
        embeddedPerSec: embedded.perSec,
        embedded,
        daemon: daemonFig,
        daemonBatch: batchFig,
        embeddedForks: spawns.length,
        systemForksDuringDaemonDefine: forks,
        backgroundForksPerSec,
        eventLoopDelayMs: defineEld,
      },
      starts,
      rss: {
        idleBytes,
        defined256Bytes,
        perDefinedBytes: (defined256Bytes - idleBytes) / nDefine,
        perRunningBytes: biggest === undefined ? NaN : (biggest.rssRunningBytes - biggest.rssDefinedBytes) / biggest.n,
      },
    };
    return { ...result, markdown: markdown(result, accel, accelNote) };
  } catch (e) {
    // What the daemon said (or why it died) is the first thing to read when a storm fails.
    if (daemon !== undefined) {
      const tail = daemon.stderr().trim().split('\n').slice(-40).join('\n');
      log(`daemon ${daemon.exited() ? 'had exited' : 'was still running'}; its stderr (last lines):\n${tail === '' ? '(empty)' : tail}`);
    }
    throw e;
  } finally {
    if (daemon !== undefined) await daemon.stop().catch(() => undefined);
    await killQemusUnder(root);
    await rm(base, { recursive: true, force: true });
  }
}

function markdown(r: Omit<DaemonBenchResult, 'markdown'>, accel: string, accelNote: string): string {
  const ok = (b: boolean): string => (b ? '✓' : '✗');
  const f0 = (n: number): string => n.toFixed(0);
  const cpu = (d: DefineFigures): string => `${d.cpuMsPerDefine.user.toFixed(2)} + ${d.cpuMsPerDefine.system.toFixed(2)}`;
  const lines = [
    '## Daemon',
    '',
    `Define ${r.define.n} domains with ${r.define.disks} disks each, all at once (the ${r.define.n} defines issued concurrently, as an orchestrator would; the daemon client uses keep-alive connections, up to ${r.define.n} at a time), durable store (fsync'd / group-committed). ${r.define.embedded.roundsMs.length} measured rounds after a warm-up round; the median round:`,
    '',
    '| path | median ms | defines/s (median; best) | target | CPU ms/define (user + sys) | processes forked |',
    '| --- | --- | --- | --- | --- | --- |',
    `| daemon API (unix socket) | ${f0(r.define.daemon.ms)} | ${f0(r.define.daemon.perSec)}; ${f0(r.define.daemon.bestPerSec)} | ≥ 2000 ${r.define.daemon.perSec >= 2000 ? 'met ✓' : 'not met ✗'} | daemon ${cpu(r.define.daemon)}, client ${(r.define.daemon.clientCpuMsPerDefine ?? NaN).toFixed(2)} | host-wide (kernel counter) during the ${f0(r.define.daemon.roundsMs.reduce((a, b) => a + b, 0))} ms of define rounds: ${r.define.systemForksDuringDaemonDefine}; in an idle second before: ${r.define.backgroundForksPerSec} (other activity on the host) |`,
    `| daemon API, one defineMany (POST /v1/batch/define) | ${f0(r.define.daemonBatch.ms)} | ${f0(r.define.daemonBatch.perSec)}; ${f0(r.define.daemonBatch.bestPerSec)} | ≥ 2000 ${r.define.daemonBatch.perSec >= 2000 ? 'met ✓' : 'not met ✗'} | daemon ${cpu(r.define.daemonBatch)}, client ${(r.define.daemonBatch.clientCpuMsPerDefine ?? NaN).toFixed(2)} | (as above) |`,
    `| embedded library | ${f0(r.define.embedded.ms)} | ${f0(r.define.embedded.perSec)}; ${f0(r.define.embedded.bestPerSec)} | ≥ 2000 ${r.define.embedded.perSec >= 2000 ? 'met ✓' : 'not met ✗'} | ${cpu(r.define.embedded)} | ${r.define.embeddedForks} ${ok(r.define.embeddedForks === 0)} |`,
    '',
    `Rounds, ms: embedded ${r.define.embedded.roundsMs.map(f0).join(', ')}; daemon ${r.define.daemon.roundsMs.map(f0).join(', ')}; daemon batch ${r.define.daemonBatch.roundsMs.map(f0).join(', ')}.`,
    '',
    `Daemon event-loop delay while defining: p50 ${r.define.eventLoopDelayMs.p50} ms, p99 ${r.define.eventLoopDelayMs.p99} ms, max ${r.define.eventLoopDelayMs.max} ms.`,
    '',
    `Start N paused domains concurrently (-S, 32 MiB, ${accel}) through the daemon, against spawning the same QEMU argvs directly in parallel. Each side runs twice, in the order bare, vmkit, vmkit, bare; times are the means, delays the worse run, start latencies over both vmkit runs. ${accelNote}`,
    '',
    '| N | bare ms (runs) | vmkit ms (runs) | ratio | target | start p50 / p99 ms | daemon event loop p50 / p99 / max ms | target p99 | idle reference p99 / max ms (bare; vmkit) | destroy all ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.starts.map(
      (s) =>
        `| ${s.n} | ${f0(s.bareMs)} (${s.bareRunsMs.map(f0).join(', ')}) | ${f0(s.vmkitMs)} (${s.vmkitRunsMs.map(f0).join(', ')}) | ${s.ratio.toFixed(3)} | ≤ 1.15 ${ok(s.ratio <= 1.15)} | ${f0(s.startP50Ms)} / ${f0(s.startP99Ms)} | ${s.eventLoopDelayMs.p50} / ${s.eventLoopDelayMs.p99} / ${s.eventLoopDelayMs.max} | ≤ 20 ${ok(s.eventLoopDelayMs.p99 <= 20)} | ${s.referenceDelayMs.bare.p99} / ${s.referenceDelayMs.bare.max}; ${s.referenceDelayMs.vmkit.p99} / ${s.referenceDelayMs.vmkit.max} | ${f0(s.destroyMs)} |`,
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
