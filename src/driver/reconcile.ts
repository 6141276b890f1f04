/**
 * What a driver finds in `<root>/run` when it opens a root (it holds the root's lock, so nothing else
 * starts QEMUs there): QEMUs to re-adopt (live, with a runtime record), QEMUs that died while nobody
 * watched (a record, no process), and QEMUs whose start never finished (a process, no record), which are
 * killed. Processes are found by scanning /proc for the `-pidfile <root>/run/<dir>/qemu.pid` argument, so a
 * QEMU is found even when the driver died before QEMU wrote its pid file.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runDirPaths } from '../process/state-dir.js';
import { readProcStat } from '../util/proc.js';
import { readRuntimeRecord, recordedAlive, type RuntimeRecord } from './runtime-record.js';

export interface ReconcileResult {
  /** Live QEMUs with a valid runtime record. */
  readonly adopt: RuntimeRecord[];
  /** Records whose QEMU is gone. */
  readonly died: RuntimeRecord[];
  /** QEMUs killed because their start never completed (domain name, pid). */
  readonly killed: { name: string; pid: number }[];
}

export async function reconcileRunDirs(root: string): Promise<ReconcileResult> {
  const base = join(root, 'run');
  let dirs: string[];
  try {
    dirs = await readdir(base);
  } catch {
    dirs = [];
  }
  if (dirs.length === 0) return { adopt: [], died: [], killed: [] }; // nothing ever ran here (or all ended cleanly)
  const procs = await findQemus(base);
  const result: ReconcileResult = { adopt: [], died: [], killed: [] };
  await Promise.all(
    dirs.map(async (entry) => {
      const paths = runDirPaths(join(base, entry));
      const record = await readRuntimeRecord(paths);
      const live = procs.get(entry);
      procs.delete(entry);
      if (record !== undefined && record.runDir === paths.dir && (await recordedAlive(record))) {
        result.adopt.push(record);
        return;
      }
      if (live !== undefined) {
        await killAndWait(live);
        result.killed.push({ name: nameOf(entry), pid: live.pid });
      } else if (record !== undefined) {
        result.died.push(record);
      }
      await rm(paths.dir, { recursive: true, force: true });
    }),
  );
  // QEMUs whose run directory is gone altogether.
  for (const [entry, p] of procs) {
    await killAndWait(p);
    result.killed.push({ name: nameOf(entry), pid: p.pid });
  }
  return result;
}

function nameOf(entry: string): string {
  const dot = entry.lastIndexOf('.');
  return dot > 0 ? entry.slice(0, dot) : entry;
}

interface ProcRef {
  readonly pid: number;
  readonly startTime: number;
}

/** Live processes whose command line has `-pidfile <base>/<dir>/q/qemu.pid` (or `<dir>/qemu.pid`), by `<dir>`. */
async function findQemus(base: string): Promise<Map<string, ProcRef>> {
  const found = new Map<string, ProcRef>();
  const prefix = `${base}/`;
  const pids = (await readdir('/proc')).filter((e) => /^\d+$/.test(e)).map(Number);
  await Promise.all(
    pids.map(async (pid) => {
      if (pid === process.pid) return;
      const text = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (!text.includes(prefix)) return;
      const args = text.split('\0');
      const i = args.indexOf('-pidfile');
      const pidFile = i >= 0 ? args[i + 1] : undefined;
      // `<dir>/q/qemu.pid`, or `<dir>/qemu.pid` from vmkit versions before the run directory had `q/`.
      const tail = pidFile?.endsWith('/q/qemu.pid') === true ? '/q/qemu.pid' : '/qemu.pid';
      if (pidFile === undefined || !pidFile.startsWith(prefix) || !pidFile.endsWith(tail)) return;
      const entry = pidFile.slice(prefix.length, -tail.length);
      if (entry.includes('/')) return;
      const st = await readProcStat(pid);
      if (st === undefined || st.state === 'Z' || st.state === 'X') return;
      found.set(entry, { pid, startTime: st.startTime });
    }),
  );
  return found;
}

/** SIGKILLs a process (if its pid still names it) and waits up to 5 s for it to be gone. */
async function killAndWait(p: ProcRef): Promise<void> {
  if (!(await recordedAlive(p))) return;
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 250 && (await recordedAlive(p)); i++) await new Promise((r) => setTimeout(r, 20));
}
