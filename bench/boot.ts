/**
 * Start-up benchmarks, bare QEMU vs vmkit on the same argv, alternating A/B in one run:
 *  (a) start until QMP answers, paused VM (-S);
 *  (b) boot until the tiny guest's banner, q35 and microvm.
 * "Bare" spawns qemu-system-x86_64 directly with the argv vmkit generates and talks QMP with the same client;
 * "vmkit" is the library: openEmbedded().define().start(). Both see the same QMP/console sockets.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseDefinition } from '../src/config/index.js';
import { openEmbedded, type Connection } from '../src/driver/connection.js';
import { resolveAccel } from '../src/host/accel.js';
import type { DomainSpec } from '../src/model/domain.js';
import { buildArgv } from '../src/qemu/argv/index.js';
import { QmpListener } from '../src/qmp/index.js';
import { runDirPaths } from '../src/process/state-dir.js';
import { argvContext } from '../src/process/argv-context.js';
import { tinyGuest, tinyYaml } from '../test/helpers/guest.js';

export const BANNER = 'VMKIT-GUEST-BANNER';

/** Bare QEMU: spawn the argv, accept QMP, optionally `cont` and wait for the banner. Returns ms. */
export async function bareRun(spec: DomainSpec, accel: 'kvm' | 'tcg', dir: string, mode: 'qmp' | 'banner'): Promise<number> {
  const paths = runDirPaths(dir);
  await mkdir(paths.qemuDir, { recursive: true });
  const argv = buildArgv(spec, { ...(await argvContext(spec, paths)), accel });
  // The clock starts before the sockets exist: running this argv needs someone listening on them, and
  // vmkit's time includes creating them too.
  const t0 = performance.now();
  const qmpL = await QmpListener.listen(paths.qmpSocket);
  let consoleText = '';
  let onBanner: (() => void) | undefined;
  const consoleServer = createServer((s: Socket) => {
    s.on('data', (c: Buffer) => {
      consoleText += c.toString();
      if (consoleText.includes(BANNER)) onBanner?.();
    });
  });
  await new Promise<void>((r) => consoleServer.listen(paths.consoleSocket, r));
  const child = spawn('qemu-system-x86_64', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  try {
    const qmp = await qmpL.accept({ timeoutMs: 30_000 });
    let t: number;
    if (mode === 'qmp') {
      await qmp.execute('query-status');
      t = performance.now() - t0;
    } else {
      const banner = new Promise<void>((r) => {
        onBanner = r;
        if (consoleText.includes(BANNER)) r();
      });
      await qmp.execute('cont');
      await banner;
      t = performance.now() - t0;
    }
    await qmp.close();
    return t;
  } finally {
    child.kill('SIGKILL');
    await exited;
    await qmpL.close();
    consoleServer.close();
    await rm(paths.consoleSocket, { force: true });
  }
}

/** vmkit: the library path, embedded. Returns ms from start() until QMP answers / the banner. */
export async function vmkitRun(conn: Connection, spec: DomainSpec, mode: 'qmp' | 'banner'): Promise<number> {
  const d = await conn.define({ spec });
  let consoleText = '';
  const banner = new Promise<void>((r) => {
    d.on('console', (c) => {
      consoleText += c.toString();
      if (consoleText.includes(BANNER)) r();
    });
  });
  const t0 = performance.now();
  await d.start({ paused: mode === 'qmp' });
  if (mode === 'qmp') await d.process?.qmp?.execute('query-status');
  else await banner;
  const t = performance.now() - t0;
  d.removeAllListeners('console');
  await d.destroy({ graceMs: 0 });
  return t;
}

export async function specFor(name: string, opts: { machine: string; accel: 'kvm' | 'tcg'; action: string }): Promise<DomainSpec> {
  tinyGuest();
  const yaml = tinyYaml({ name, machine: opts.machine, action: opts.action }).replace('accel: tcg', `accel: ${opts.accel}`);
  return parseDefinition(yaml, { baseDir: process.cwd() });
}

export async function withDirs<T>(fn: (bareDir: string, conn: Connection) => Promise<T>): Promise<T> {
  const base = await mkdtemp(join(tmpdir(), 'vmkit-bench-'));
  const conn = await openEmbedded({ root: join(base, 'root') });
  try {
    return await fn(base, conn);
  } finally {
    await conn.close();
    await rm(base, { recursive: true, force: true });
  }
}

export { resolveAccel };
