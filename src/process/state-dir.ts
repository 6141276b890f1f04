import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { VmkitError } from '../errors.js';
import type { Identity } from '../host/accounts.js';
import { processStartTime } from '../util/proc.js';

/**
 * The one place that names every file of a VM's private run directory. A run directory is
 * `<root>/run/<name>.<random>`, mode 0700 (0711 when QEMU runs as another account), owned by vmkit, and holds
 * vmkit's own files, which QEMU's account can never replace:
 *   qmp.sock      QMP socket (vmkit listens, QEMU connects; given to QEMU's account)
 *   qemu.log      QEMU's stderr and the serial console
 *   owner         "<pid> <start time>" of the vmkit process that owns the directory, for sweeping
 *   runtime.json  (daemon) what a restarted daemon needs to re-adopt QEMU (pid, start time, sockets)
 * and `q/`, the one directory QEMU writes in (its account owns it, mode 0700):
 *   q/qemu.pid        QEMU's pid file
 *   q/console.sock    serial console socket (vmkit listens, QEMU connects; in daemon mode QEMU serves it,
 *                     so that a restarted daemon can re-attach the console)
 *   q/qmp-adopt.sock  (daemon) a second QMP monitor QEMU serves, for a restarted daemon to re-connect to
 */
export interface RunDir {
  readonly dir: string;
  /** The directory QEMU writes in (pid file, the sockets it serves). */
  readonly qemuDir: string;
  readonly qmpSocket: string;
  readonly consoleSocket: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly ownerFile: string;
  readonly adoptQmpSocket: string;
  readonly runtimeFile: string;
}

export function runDirPaths(dir: string): RunDir {
  // One letter: with a 64-character domain name under /var/lib/vmkit, q/qmp-adopt.sock still fits the 107 bytes of a unix socket path.
  const qemuDir = join(dir, 'q');
  return {
    dir,
    qemuDir,
    qmpSocket: join(dir, 'qmp.sock'),
    consoleSocket: join(qemuDir, 'console.sock'),
    pidFile: join(qemuDir, 'qemu.pid'),
    logFile: join(dir, 'qemu.log'),
    ownerFile: join(dir, 'owner'),
    adoptQmpSocket: join(qemuDir, 'qmp-adopt.sock'),
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
  await mkdir(paths.qemuDir, { mode: 0o700 });
  return paths;
}

/**
 * Lets a QEMU that runs as another account reach its run directory: the connection root, `<root>/run` and
 * the run directory become traversable (x for group and others, never readable: nobody can list them);
 * `q/` and the sockets QEMU connects to are given to that account. Refuses, naming the directory, when
 * some directory above the root keeps that account out.
 */
export async function shareRunDir(root: string, runDir: RunDir, id: Identity, console: boolean): Promise<void> {
  for (const dir of [root, join(root, 'run'), runDir.dir]) {
    const st = await stat(dir);
    if ((st.mode & 0o011) !== 0o011 && st.uid === process.geteuid?.()) await chmod(dir, (st.mode & 0o7777) | 0o011);
  }
  for (let dir = dirname(root); ; dir = dirname(dir)) {
    const st = await stat(dir);
    if (!mayEnter(st, id)) {
      throw new VmkitError('HostError', `QEMU runs as uid ${id.uid}, which cannot enter ${dir} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}, owner uid ${st.uid}) on the way to its run directory in ${root}: put the root somewhere that account can reach, or let QEMU run as this process's user`, {
        details: { dir, uid: id.uid, root },
      });
    }
    if (dir === dirname(dir)) break;
  }
  for (const p of [runDir.qemuDir, runDir.qmpSocket, ...(console ? [runDir.consoleSocket] : [])]) await chown(p, id.uid, id.gid);
}

/** Whether `id` may search (x) a directory with this owner and mode (ACLs aside). */
function mayEnter(st: { uid: number; gid: number; mode: number }, id: Identity): boolean {
  if (id.uid === 0) return true;
  if (st.uid === id.uid) return (st.mode & 0o100) !== 0;
  if (id.groups.includes(st.gid) || st.gid === id.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
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
