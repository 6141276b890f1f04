/**
 * Live migration of an idle 128 MiB tiny guest (TCG) over loopback, bare QEMU vs vmkit, alternating A/B:
 * - bare: the source QEMU runs the argv vmkit generates; the timed part spawns the destination QEMU
 *   (`-incoming defer`), sends `migrate-incoming tcp:127.0.0.1:0` and `migrate`, polls query-migrate on both
 *   (every 50 ms, as vmkit does) until `completed`, then lets the destination run and quits the source;
 * - vmkit: `migrate()` between two embedded roots (definition sent, destination defined and started, the
 *   same QMP steps, the source's QEMU quit).
 * Also reported: the guest's downtime as QEMU measured it and the bytes sent, for both.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { parseDefinition } from '../src/config/index.js';
import { openEmbedded } from '../src/driver/connection.js';
import type { Domain } from '../src/driver/domain.js';
import type { DomainSpec } from '../src/model/domain.js';
import { argvContext } from '../src/process/argv-context.js';
import { runDirPaths } from '../src/process/state-dir.js';
import { buildArgv } from '../src/qemu/argv/index.js';
import { QmpListener, type QmpClient } from '../src/qmp/index.js';
import { migrate } from '../src/vmops/migration.js';
import { tinyGuest, tinyYaml } from '../test/helpers/guest.js';
import { alternate, summarize, table, type Row } from './stats.js';

const READY = 'VMKIT-GUEST-READY';

interface Sample {
  readonly ms: number;
  readonly downtimeMs: number;
  readonly bytes: number;
}

interface BareQemu {
  readonly qmp: QmpClient;
  readonly exited: Promise<void>;
  stop(): Promise<void>;
}

/** Spawns QEMU on `argv` with its QMP and console sockets in `dir`; resolves once QMP answers (and, with `ready`, the guest is up). */
async function bareQemu(spec: DomainSpec, dir: string, extra: string[], ready: boolean): Promise<BareQemu> {
  const paths = runDirPaths(dir);
  await mkdir(paths.qemuDir, { recursive: true });
  const argv = [...buildArgv(spec, { ...(await argvContext(spec, paths)), accel: 'tcg' }), ...extra];
  const qmpL = await QmpListener.listen(paths.qmpSocket);
  let text = '';
  let onReady: (() => void) | undefined;
  const consoleServer: Server = createServer((s: Socket) => {
    s.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes(READY)) onReady?.();
    });
  });
  await new Promise<void>((r) => consoleServer.listen(paths.consoleSocket, r));
  const child = spawn('qemu-system-x86_64', argv, { stdio: ['ignore', 'ignore', 'ignore'] });
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  const stop = async (): Promise<void> => {
    child.kill('SIGKILL');
    await exited;
    await qmpL.close();
    consoleServer.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const qmp = await qmpL.accept({ timeoutMs: 30_000 });
    if (ready) {
      const up = new Promise<void>((r) => {
        onReady = r;
        if (text.includes(READY)) r();
      });
      await qmp.execute('cont');
      await up;
    }
    return { qmp, exited, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function bareMigration(spec: DomainSpec, base: string, i: number): Promise<Sample> {
  const src = await bareQemu(spec, join(base, `bare-src-${i}`), [], true);
  let dst: BareQemu | undefined;
  try {
    await delay(500); // idle
    const t0 = performance.now();
    dst = await bareQemu(spec, join(base, `bare-dst-${i}`), ['-incoming', 'defer'], false);
    await dst.qmp.execute('migrate-incoming', { uri: 'tcp:127.0.0.1:0' });
    const info = await dst.qmp.execute<{ 'socket-address'?: { port?: string }[] }>('query-migrate');
    await src.qmp.execute('migrate', { uri: `tcp:127.0.0.1:${info['socket-address']?.[0]?.port ?? ''}` });
    for (;;) {
      const m = await src.qmp.execute<{ status?: string; downtime?: number; ram?: { transferred?: number }; 'error-desc'?: string }>('query-migrate');
      if (m.status === 'completed') {
        // As vmkit does: wait until the destination has all of it, let it run, stop the source.
        for (;;) {
          const d = await dst.qmp.execute<{ status?: string }>('query-migrate');
          if (d.status === 'completed') break;
          await delay(50);
        }
        await dst.qmp.execute('cont');
        await src.qmp.execute('quit').catch(() => undefined);
        await src.exited;
        const ms = performance.now() - t0;
        return { ms, downtimeMs: m.downtime ?? NaN, bytes: m.ram?.transferred ?? NaN };
      }
      if (m.status === 'failed' || m.status === 'cancelled') throw new Error(`bare migration ${m.status}: ${m['error-desc'] ?? ''}`);
      await delay(50);
    }
  } finally {
    await dst?.stop();
    await src.stop();
  }
}

async function vmkitMigration(yaml: string, base: string, i: number): Promise<Sample> {
  const a = await openEmbedded({ root: join(base, `a-${i}`), noSync: true });
  const b = await openEmbedded({ root: join(base, `b-${i}`), noSync: true });
  try {
    const d = (await a.define({ text: yaml })) as Domain;
    let text = '';
    const up = new Promise<void>((r) => d.on('console', (c) => (text += c.toString()).includes(READY) && r()));
    await d.start();
    await up;
    await delay(500); // idle
    const t0 = performance.now();
    const r = await migrate(a, d, b);
    const ms = performance.now() - t0;
    await b.lookup(d.name).destroy({ graceMs: 0 });
    return { ms, downtimeMs: r.progress.downtimeMs ?? NaN, bytes: r.progress.transferredBytes ?? NaN };
  } finally {
    await a.close();
    await b.close();
  }
}

export async function migrationBench(runs: number): Promise<{ rows: Row[]; markdown: string }> {
  tinyGuest();
  const yaml = tinyYaml({ name: 'bench-mig', action: 'wait' }).replace('memory: 256M', 'memory: 128M');
  const spec = parseDefinition(yaml, { baseDir: process.cwd() });
  const base = await mkdtemp(join(tmpdir(), 'vmkit-bench-mig-'));
  // alternate() runs one warm-up per side first: its downtime is dropped below.
  const bare: Sample[] = [];
  const vm: Sample[] = [];
  let i = 0;
  let row: Row;
  try {
    row = await alternate(
      'migration of an idle 128 MiB guest over loopback, destination start included (tcg)',
      1.1,
      runs,
      async () => {
        const s = await bareMigration(spec, base, i++);
        bare.push(s);
        return s.ms;
      },
      async () => {
        const s = await vmkitMigration(yaml, base, i++);
        vm.push(s);
        return s.ms;
      },
    );
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  const dt = (xs: Sample[]): string => {
    const s = summarize(xs.slice(1).map((x) => x.downtimeMs));
    return `${s.median} ms (min ${s.min}, max ${s.max})`;
  };
  const mb = (xs: Sample[]): string => (summarize(xs.slice(1).map((x) => x.bytes)).median / 2 ** 20).toFixed(1);
  const markdown = `${table([row])}\n\nGuest downtime reported by QEMU (query-migrate \`downtime\`), median: bare ${dt(bare)}; vmkit ${dt(vm)}. Transferred (query-migrate \`ram.transferred\`), median: bare ${mb(bare)} MiB; vmkit ${mb(vm)} MiB.\n`;
  return { rows: [row], markdown };
}
