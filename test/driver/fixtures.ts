/** Definitions and helpers shared by the driver, API and stress tests. */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { readdir, readFile } from 'node:fs/promises';
import { tinyYaml } from '../helpers/guest.js';

/** A tiny guest that stays paused or waits (no boot needed): KVM when usable, small memory. */
export function pausedYaml(name: string, memory = '64M'): string {
  return tinyYaml({ name, action: 'wait' }).replace('accel: tcg', 'accel: auto').replace('memory: 256M', `memory: ${memory}`);
}

/** A definition with `n` disks (never started: the files need not exist). */
export function manyDisksYaml(name: string, n = 16): string {
  const disks = Array.from({ length: n }, (_, i) => `  - { path: /var/lib/vmkit-test/${name}/disk${i}.qcow2, format: qcow2, bus: ${i % 2 === 0 ? 'virtio' : 'scsi'} }`);
  return [`name: ${name}`, 'machine: q35', 'cpu: { vcpus: 2 }', 'memory: 128M', 'disks:', ...disks, 'nics:', '  - { type: user, model: virtio }'].join('\n');
}

/**
 * Counts processes this Node process starts (ChildProcess.spawn covers spawn/exec/execFile/fork; spawnSync
 * and execSync are counted too) while `fn` runs.
 */
export async function countSpawns<T>(fn: () => Promise<T>): Promise<{ result: T; spawns: string[] }> {
  const require = createRequire(import.meta.url);
  const cp = require('node:child_process') as typeof import('node:child_process') & { ChildProcess: { prototype: { spawn: (o: { file: string }) => unknown } } };
  const spawns: string[] = [];
  const proto = cp.ChildProcess.prototype;
  const origSpawn = proto.spawn;
  const origSync = cp.spawnSync;
  const origExecSync = cp.execSync;
  proto.spawn = function (this: unknown, o: { file: string }) {
    spawns.push(o.file);
    return origSpawn.call(this, o);
  };
  (cp as { spawnSync: unknown }).spawnSync = (...a: Parameters<typeof origSync>) => {
    spawns.push(String(a[0]));
    return origSync(...a);
  };
  (cp as { execSync: unknown }).execSync = (...a: Parameters<typeof origExecSync>) => {
    spawns.push(String(a[0]));
    return origExecSync(...a);
  };
  syncBuiltinESMExports();
  try {
    return { result: await fn(), spawns };
  } finally {
    proto.spawn = origSpawn;
    (cp as { spawnSync: unknown }).spawnSync = origSync;
    (cp as { execSync: unknown }).execSync = origExecSync;
    syncBuiltinESMExports();
  }
}

/**
 * Live (non-zombie) QEMUs of `root`, or of any root below it (a test's base directory): processes whose
 * command line names a run directory (`/run/`) under `root`.
 */
export async function qemusUnder(root: string): Promise<number[]> {
  const under = new RegExp(`${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(?:[^\0]*/)?run/`);
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const cmd = await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '');
    if (!under.test(cmd)) continue;
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    if (state !== undefined && state !== 'Z' && state !== 'X' && stat !== '') out.push(Number(e));
  }
  return out.sort((a, b) => a - b);
}

/** SIGKILLs every QEMU of `root` (test clean-up) and waits until they are gone. */
export async function killQemusUnder(root: string): Promise<number[]> {
  const pids = await qemusUnder(root);
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (let i = 0; i < 250 && (await qemusUnder(root)).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return pids;
}
