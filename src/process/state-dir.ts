import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { VmkitError } from '../errors.js';
import { processStartTime } from '../util/proc.js';

/**
 * The one place that names every file of a VM's private run directory. A run directory is
 * `<root>/run/<name>.<random>`, mode 0700, and holds:
 *   qmp.sock      QMP socket (vmkit listens, QEMU connects)
 *   console.sock  serial console socket (vmkit listens, QEMU connects)
 *   qemu.pid      QEMU's pid file
 *   qemu.log      QEMU's stderr and the serial console
 *   owner         "<pid> <start time>" of the vmkit process that owns the directory, for sweeping
 * and, for a QEMU started by the daemon (which must outlive a daemon restart):
 *   qmp-adopt.sock  a second QMP monitor QEMU serves, for a restarted daemon to re-connect to
 *   runtime.json    what a restarted daemon needs to re-adopt QEMU (pid, start time, sockets)
 * (console.sock is then served by QEMU too, so a restarted daemon can re-attach the console.)
 */
export interface RunDir {
  readonly dir: string;
  readonly qmpSocket: string;
  readonly consoleSocket: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly ownerFile: string;
  readonly adoptQmpSocket: string;
  readonly runtimeFile: string;
}

export function runDirPaths(dir: string): RunDir {
  return {
    dir,
    qmpSocket: join(dir, 'qmp.sock'),
    consoleSocket: join(dir, 'console.sock'),
    pidFile: join(dir, 'qemu.pid'),
    logFile: join(dir, 'qemu.log'),
    ownerFile: join(dir, 'owner'),
    adoptQmpSocket: join(dir, 'qmp-adopt.sock'),
    runtimeFile: join(dir, 'runtime.json'),
  };
}

/** Creates a fresh private run directory for `name` under `<root>/run`. */
export async function createRunDir(root: string, name: string): Promise<RunDir> {
  const base = join(root, 'run');
  await mkdir(base, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(base, `${name}.`));
  const paths = runDirPaths(dir);
  await writeFile(paths.ownerFile, await ownerRecord(), { mode: 0o600 });
  return paths;
}

let ownRecord: Promise<string> | undefined;

/** "<pid> <start time>" of this process (read once), as written to owner files. */
export function ownerRecord(): Promise<string> {
  ownRecord ??= processStartTime(process.pid).then((start) => `${process.pid} ${start ?? 0}\n`);
  return ownRecord;
}

export async function removeRunDir(dir: RunDir): Promise<void> {
  await rm(dir.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
}

/**
 * Removes run directories under `<root>/run` whose owning vmkit process is gone (a vmkit killed with
 * SIGKILL cannot clean up after itself; its QEMU died with it through PDEATHSIG). Returns what it removed.
 */
export async function sweepStaleRunDirs(root: string): Promise<string[]> {
  const base = join(root, 'run');
  let entries: string[];
  try {
    entries = await readdir(base);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new VmkitError('HostError', `Cannot read run directory ${base}: ${(e as Error).message}`, { cause: e });
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const dir = join(base, entry);
    if (await ownerAlive(join(dir, 'owner'))) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/**
 * True when the vmkit process recorded in `ownerFile` still runs. A directory without an owner file is
 * being created right now (young) or was torn at creation (old): only the old ones count as dead.
 */
export async function ownerAlive(ownerFile: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(ownerFile, 'utf8');
  } catch {
    const dirStat = await stat(dirname(ownerFile)).catch(() => undefined);
    return dirStat !== undefined && Date.now() - dirStat.mtimeMs < 60_000;
  }
  const [pidText, startText] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  const start = await processStartTime(pid);
  return start !== undefined && String(start) === startText;
}
