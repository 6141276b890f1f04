/**
 * The stress storm (the seed's scale tests, as ours), against a `vmkit daemon` child process:
 *  - start/destroy loops on many domains concurrently,
 *  - define/undefine of the same domain from several clients concurrently,
 *  - connect/disconnect of many clients concurrently,
 *  - random SIGKILL of QEMU processes meanwhile,
 *  - SIGKILL of the daemon mid-storm, then a restart.
 * Afterwards it checks: no deadlock (every domain answers and still starts and stops), no daemon crash,
 * definitions intact, the daemon's state agrees with /proc (every domain it reports with a pid has a live
 * QEMU and vice versa), and once everything is destroyed and undefined: no QEMU, file, socket or cgroup left.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteConnection } from '../../src/api/client.js';
import type { DomainInfo } from '../../src/driver/api-types.js';
import { VmkitError } from '../../src/errors.js';
import { daemonBase, spawnDaemon, type DaemonProc } from '../api/daemon-process.js';
import { killQemusUnder, pausedYaml, qemusUnder } from '../driver/fixtures.js';

export interface StormOptions {
  readonly seconds: number;
  /** Domains in start/destroy loops. */
  readonly domains: number;
  /** Clients connecting and disconnecting in loops. */
  readonly clients: number;
  /** Workers defining/undefining the same domain. */
  readonly definers: number;
  /** SIGKILLs of the daemon during the storm (evenly spread). */
  readonly daemonKills: number;
  /** Mean interval between SIGKILLs of a random QEMU. */
  readonly qemuKillMs: number;
  readonly log?: (line: string) => void;
}

export interface StormReport {
  readonly ops: Record<string, number>;
  /** Tolerated errors by code (wrong state, daemon down, QEMU killed under a start...). */
  readonly tolerated: Record<string, number>;
  /** Errors that must not happen (Internal, Timeout, HTTP 500...). */
  readonly unexpected: string[];
  /** Invariant violations found after the storm. */
  readonly violations: string[];
  readonly qemuKills: number;
  readonly daemonRestarts: { adopted: number; diedUnmonitored: number; killed: number }[];
  readonly eventLoopDelayMs: { p50: number; p99: number; max: number } | undefined;
  readonly seconds: number;
}

/** Errors a storm produces by design. Everything else is a defect. */
const TOLERATED = new Set(['InvalidState', 'NotFound', 'AlreadyExists', 'QemuFailed', 'QmpClosed', 'QmpError', 'Aborted', 'HostError']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runStorm(opts: StormOptions): Promise<StormReport> {
  const log = opts.log ?? (() => undefined);
  const base = await daemonBase('vmkit-stress-');
  const root = join(base, 'root');
  const socket = join(base, 'd.sock');
  const ops: Record<string, number> = {};
  const tolerated: Record<string, number> = {};
  const unexpected: string[] = [];
  const violations: string[] = [];
  const restarts: StormReport['daemonRestarts'][number][] = [];
  const count = (k: string): void => {
    ops[k] = (ops[k] ?? 0) + 1;
  };
  const failed = (what: string, e: unknown): void => {
    const code = e instanceof VmkitError ? e.code : 'NotVmkitError';
    if (TOLERATED.has(code)) tolerated[code] = (tolerated[code] ?? 0) + 1;
    else unexpected.push(`${what}: ${code}: ${e instanceof Error ? e.message : String(e)}`);
  };
  const cgroupsBefore = await vmkitCgroups('st-');
  let daemon: DaemonProc = await spawnDaemon(socket, root);
  const daemonPids = new Set<number>([daemon.pid]);
  let qemuKills = 0;
  let eld: StormReport['eventLoopDelayMs'];
  try {
    const admin = await RemoteConnection.open(socket);
    const names = Array.from({ length: opts.domains }, (_, i) => `st-${i}`);
    const keepers = ['st-keep-a', 'st-keep-b'];
    for (const n of [...names, ...keepers]) await admin.define({ text: pausedYaml(n, '32M') });
    const before = new Map<string, { uuid: string; text: string; pid: number }>();
    for (const n of keepers) {
      const d = admin.lookup(n);
      await d.start({ paused: true }); // kept running through the storm: must be re-adopted, never lost
      before.set(n, { uuid: d.uuid, text: (await d.definition()).text, pid: d.pid ?? -1 });
    }
    const keeperPids = new Set([...before.values()].map((v) => v.pid));
    log(`storm: ${opts.domains} domains, ${opts.clients} clients, ${opts.definers} definers, ${opts.daemonKills} daemon kills, ${opts.seconds} s`);

    const deadline = Date.now() + opts.seconds * 1000;
    const live = (): boolean => Date.now() < deadline;
    const workers: Promise<void>[] = [];

    // 1. start/destroy loops, each through its own client.
    for (const name of names) {
      workers.push(
        (async () => {
          const c = await RemoteConnection.open(socket);
          try {
            while (live()) {
              try {
                const d = c.lookup(name);
                await d.start({ paused: true });
                count('start');
                await d.destroy({ graceMs: 500 });
                count('destroy');
              } catch (e) {
                failed(`start/destroy ${name}`, e);
                await sleep(50);
              }
            }
          } finally {
            await c.close();
          }
        })(),
      );
    }
    // 2. define/undefine of the same domain, concurrently.
    for (let i = 0; i < opts.definers; i++) {
      workers.push(
        (async () => {
          const c = await RemoteConnection.open(socket);
          try {
            for (let k = 0; live(); k++) {
              try {
                if ((k + i) % 2 === 0) {
                  await c.define({ text: pausedYaml('st-same', `${32 + (k % 4) * 8}M`) });
                  count('define');
                } else {
                  await c.undefine('st-same');
                  count('undefine');
                }
              } catch (e) {
                failed('define/undefine st-same', e);
                if (e instanceof VmkitError && e.code === 'HostError') await sleep(50);
              }
            }
          } finally {
            await c.close();
          }
        })(),
      );
    }
    // 3. connect/disconnect.
    for (let i = 0; i < opts.clients; i++) {
      workers.push(
        (async () => {
          while (live()) {
            try {
              const c = await RemoteConnection.open(socket, { timeoutMs: 10_000 });
              c.list();
              await c.close();
              count('connect');
              await sleep(20);
            } catch (e) {
              failed('connect', e);
              await sleep(50);
            }
          }
        })(),
      );
    }
    // 4. random SIGKILL of QEMU processes.
    workers.push(
      (async () => {
        while (live()) {
          await sleep(opts.qemuKillMs * (0.5 + Math.random()));
          const pids = (await qemusUnder(root)).filter((p) => !keeperPids.has(p));
          const victim = pids[Math.floor(Math.random() * pids.length)];
          if (victim === undefined) continue;
          try {
            process.kill(victim, 'SIGKILL');
            qemuKills++;
          } catch {
            /* already gone */
          }
        }
      })(),
    );
    // 5. SIGKILL of the daemon mid-storm, then a restart.
    workers.push(
      (async () => {
        for (let k = 1; k <= opts.daemonKills; k++) {
          const at = Date.now() + (deadline - Date.now()) / (opts.daemonKills - k + 2); // evenly spread
          while (Date.now() < at && live()) await sleep(100);
          if (!live()) return;
          await daemon.kill9();
          log(`storm: daemon SIGKILLed (${k}/${opts.daemonKills})`);
          await sleep(200);
          daemon = await spawnDaemon(socket, root);
          daemonPids.add(daemon.pid);
          restarts.push({ adopted: daemon.ready.adopted.length, diedUnmonitored: daemon.ready.diedUnmonitored.length, killed: daemon.ready.killed.length });
          log(`storm: daemon restarted: re-adopted ${daemon.ready.adopted.length}, died unmonitored ${daemon.ready.diedUnmonitored.length}, killed ${daemon.ready.killed.length}`);
        }
      })(),
    );
    await Promise.all(workers);
    log(`storm: done; ${JSON.stringify(ops)}; tolerated ${JSON.stringify(tolerated)}; ${unexpected.length} unexpected`);

    // ---- afterwards: liveness and agreement with reality ----
    if (daemon.exited()) violations.push(`the daemon died: ${daemon.stderr().slice(-2000)}`);
    const check = await RemoteConnection.open(socket);
    try {
      const settled = await settle(check);
      if (!settled) violations.push('some domains stayed in a transitional state (starting/stopping) for 30 s: a stuck job?');
      const infos = await check.refresh();
      const reported = infos.filter((d) => d.pid !== undefined).map((d) => d.pid as number).sort((a, b) => a - b);
      const actual = await qemusUnder(root);
      if (JSON.stringify(reported) !== JSON.stringify(actual)) violations.push(`daemon reports QEMU pids ${JSON.stringify(reported)} but /proc has ${JSON.stringify(actual)}`);
      for (const d of infos) {
        if ((d.pid === undefined) !== (d.state === 'shutoff')) violations.push(`domain ${d.name} is ${d.state} with pid ${String(d.pid)}`);
      }
      for (const [n, v] of before) {
        const d = infos.find((x) => x.name === n);
        if (d === undefined || d.uuid !== v.uuid || (await check.lookup(n).definition()).text !== v.text) violations.push(`definition of ${n} changed or vanished`);
        else if (d.pid !== v.pid) violations.push(`${n} ran as pid ${v.pid} before the storm and is now ${d.state} with pid ${String(d.pid)}: not re-adopted`);
      }
      // No deadlock: every storm domain still starts and stops.
      await Promise.all(
        names.map(async (n) => {
          try {
            const d = check.lookup(n);
            if (d.state() !== 'shutoff') await d.destroy({ graceMs: 500 });
            await d.start({ paused: true, timeoutMs: 30_000 });
            await d.destroy({ graceMs: 500 });
          } catch (e) {
            violations.push(`${n} no longer starts and stops: ${e instanceof Error ? e.message : String(e)}`);
          }
        }),
      );
      eld = (await check.daemonStatus()).eventLoopDelayMs;
      // Clean up through the API, then check that nothing is left.
      for (const d of check.list()) {
        if (d.state() !== 'shutoff') await d.destroy({ graceMs: 500 }).catch((e: unknown) => violations.push(`destroy ${d.name}: ${String(e)}`));
      }
      for (const d of check.list()) await check.undefine(d.name).catch((e: unknown) => violations.push(`undefine ${d.name}: ${String(e)}`));
    } finally {
      await check.close();
      await admin.close();
    }
    const code = await daemon.stop();
    if (code !== 0) violations.push(`daemon exited with ${String(code)} on SIGTERM`);
    const left = await qemusUnder(root);
    if (left.length > 0) violations.push(`QEMU processes left: ${left.join(', ')}`);
    const servers = await orphanSpawnServers(daemonPids);
    if (servers.length > 0) violations.push(`spawn servers left behind by SIGKILLed daemons: ${servers.join(', ')}`);
    const runLeft = await readdir(join(root, 'run')).catch(() => []);
    if (runLeft.length > 0) violations.push(`run directories left: ${runLeft.join(', ')}`);
    for (const sub of ['domains', 'status']) {
      const domLeft = await readdir(join(root, sub)).catch(() => []);
      if (domLeft.length > 0) violations.push(`files left in ${sub}/: ${domLeft.join(', ')}`);
    }
    // The lock file and the lock's key stay (driver/root-lock.ts); a daemon that let go of the root has emptied the file.
    const rootLeft = (await readdir(root)).filter((e) => !['run', 'domains', 'status', 'lock', 'lock.key'].includes(e));
    if (rootLeft.length > 0) violations.push(`files left in the root: ${rootLeft.join(', ')}`);
    const lockLeft = await readFile(join(root, 'lock'), 'utf8').catch(() => '');
    if (lockLeft !== '') violations.push(`the root's lock file still names an owner after the daemon stopped: ${lockLeft.trim()}`);
    const baseLeft = (await readdir(base)).filter((e) => e !== 'root');
    if (baseLeft.length > 0) violations.push(`files left next to the root (socket?): ${baseLeft.join(', ')}`);
    const cgroupsAfter = await vmkitCgroups('st-');
    const newGroups = cgroupsAfter.filter((g) => !cgroupsBefore.includes(g));
    if (newGroups.length > 0) violations.push(`cgroups left: ${newGroups.join(', ')}`);
  } finally {
    if (!daemon.exited()) await daemon.kill9();
    await killQemusUnder(root);
    await rm(base, { recursive: true, force: true });
  }
  return { ops, tolerated, unexpected, violations, qemuKills, daemonRestarts: restarts, eventLoopDelayMs: eld, seconds: opts.seconds };
}

/** Spawn servers (the daemon's QEMU starters) whose daemon is one of `daemons` or gone (reparented). */
async function orphanSpawnServers(daemons: ReadonlySet<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < 50; i++) {
    out.length = 0;
    for (const e of await readdir('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      const cmd = await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '');
      if (!cmd.includes('spawn-server.js')) continue;
      const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' || state === undefined) continue;
      if (daemons.has(Number(ppid)) || Number(ppid) === 1) out.push(Number(e));
    }
    if (out.length === 0) break;
    await sleep(100); // PDEATHSIG is delivered asynchronously
  }
  return [...out];
}

/** Waits (at most 30 s) until no domain is in a transitional state. */
async function settle(c: RemoteConnection): Promise<boolean> {
  const transitional = new Set(['starting', 'stopping', 'shutting-down']);
  for (let i = 0; i < 300; i++) {
    const infos: DomainInfo[] = await c.refresh();
    if (infos.every((d) => !transitional.has(d.state) && d.job === undefined)) return true;
    await sleep(100);
  }
  return false;
}

/** vmkit cpuset groups (any hierarchy) whose name contains `marker`. */
async function vmkitCgroups(marker: string): Promise<string[]> {
  const out: string[] = [];
  for (const dir of ['/sys/fs/cgroup/cpuset/vmkit', '/sys/fs/cgroup/vmkit', '/sys/fs/cgroup/unified/vmkit']) {
    for (const e of await readdir(dir).catch(() => [] as string[])) if (e.includes(marker)) out.push(`${dir}/${e}`);
  }
  return out;
}
