/**
 * `vmkit daemon`: the driver in daemon mode (QEMU outlives the daemon; a restart re-adopts it) behind the
 * HTTP/JSON API on a unix socket. SIGTERM/SIGINT stop serving and leave every VM running.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, setPriority } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDefinitionFast } from '../config/parse-fast.js';
import { Connection, type OpenReport } from '../driver/connection.js';
import { storeWriter } from '../driver/store-writer.js';
import { warmSpawner } from '../driver/spawner.js';
import { VmkitError } from '../errors.js';
import { parseGroup } from '../host/accounts.js';
import { defaultAccessPolicy, type AccessPolicy } from './peer-cred.js';
import { ensurePrivateDir } from './private-dir.js';
import { ApiServer } from './server.js';
import { defaultRoot, defaultSocketPath, sessionSocketDir } from './uri.js';

export interface DaemonOptions {
  readonly socket?: string;
  readonly root?: string;
  /** Socket file mode (default 0o660). */
  readonly socketMode?: number;
  /** Who may connect (default: root + group vmkit as root; the invoking user otherwise). */
  readonly access?: AccessPolicy;
  /** Skip store fsyncs (throw-away roots in tests). */
  readonly noSync?: boolean;
  /** Worker threads parsing definitions (default: the CPU count, at most 4). */
  readonly parseThreads?: number;
  /** Longest one definition may take to parse before it is refused (default PARSE_TIME_LIMIT_MS, 10 s). */
  readonly parseTimeLimitMs?: number;
  /** Most client connections open at once (default MAX_CONNECTIONS, 1024); more are answered 503 and closed. */
  readonly maxConnections?: number;
  /**
   * Nice value for the daemon's threads (QEMU keeps the process's own): a control plane that answers
   * while hundreds of QEMUs start. Default: unchanged.
   */
  readonly niceness?: number;
  /** Let clients that are not root define privileged options (`--allow-raw`); see DriverOptions.allowRaw. */
  readonly allowRaw?: boolean;
  /** The account QEMU runs as when a definition names none (DriverOptions.qemuUser; null: the daemon's own). */
  readonly qemuUser?: string | number | null;
  /** QEMU binaries any client may name as `emulator` (DriverOptions.emulators). */
  readonly emulators?: readonly string[];
  /** Start domains marked autostart (default true). */
  readonly autostart?: boolean;
  readonly version: string;
  readonly log?: (line: string) => void;
}

export interface Daemon {
  readonly socket: string;
  readonly root: string;
  readonly conn: Connection;
  readonly report: OpenReport;
  /** Stops serving and lets go of the VMs (they keep running). */
  stop(): Promise<void>;
}

/** Opens the root in daemon mode, autostarts, and serves the API. */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const socket = absolute(opts.socket ?? defaultSocketPath(), '--socket');
  const root = absolute(opts.root ?? defaultRoot(), '--root');
  const log = opts.log ?? (() => undefined);
  const uid = process.getuid?.() ?? 0;
  const vmkitGid = uid === 0 ? await groupId('vmkit') : undefined;
  const access = opts.access ?? defaultAccessPolicy(uid, vmkitGid);
  // Session mode's socket directory is private: made 0700, and refused when someone else made it.
  if (dirname(socket) === sessionSocketDir()) await ensurePrivateDir(dirname(socket), uid);
  const conn = await Connection.open({ root, detached: true, parseThreads: opts.parseThreads ?? Math.max(1, Math.min(4, availableParallelism())), ...(opts.noSync === true ? { noSync: true } : {}), ...(opts.parseTimeLimitMs === undefined ? {} : { parseTimeLimitMs: opts.parseTimeLimitMs }), ...(opts.allowRaw === true ? { allowRaw: true } : {}), ...(opts.qemuUser === undefined ? {} : { qemuUser: opts.qemuUser }), ...(opts.emulators === undefined ? {} : { emulators: opts.emulators }) });
  const report = conn.openReport;
  // The store writer thread starts now, not at the first define; plain definitions are read on this
  // thread (driver/definition-input.ts): compile the validator and JIT the reader here too.
  if (opts.noSync !== true) storeWriter.start();
  const threads = Promise.all([conn.warmParsers(WARM_UP_DEFINITION), warmSpawner()]);
  for (let i = 0; i < 20; i++) parseDefinitionFast(WARM_UP_DEFINITION, { baseDir: '/' });
  await threads;
  log(`root ${root}: ${conn.list().length} domains; re-adopted ${report.adopted.length}${report.adopted.length > 0 ? ` (${report.adopted.join(', ')})` : ''}`);
  for (const name of report.diedUnmonitored) log(`domain ${name}: QEMU died while no daemon watched (crashed while unmonitored)`);
  for (const name of report.killed) log(`domain ${name}: its start was interrupted; QEMU was killed`);
  for (const p of report.problems) log(`store: ${p}`);
  let api: ApiServer;
  try {
    api = await ApiServer.listen(conn, {
      socket,
      access,
      version: opts.version,
      ...(opts.socketMode === undefined ? {} : { mode: opts.socketMode }),
      ...(vmkitGid === undefined ? {} : { gid: vmkitGid }),
      ...(opts.maxConnections === undefined ? {} : { maxConnections: opts.maxConnections }),
      log,
    });
  } catch (e) {
    await conn.close();
    throw e;
  }
  log(`listening on ${socket} (clients allowed: ${access.describe})`);
  if (opts.niceness !== undefined) await renice(opts.niceness, log);
  if (opts.autostart !== false) {
    const { started, failed } = await conn.autostart();
    if (started.length > 0) log(`autostarted ${started.join(', ')}`);
    for (const f of failed) log(`autostart of ${f.name} failed: ${f.error.message}`);
  }
  let stopping: Promise<void> | undefined;
  return {
    socket,
    root,
    conn,
    report,
    stop() {
      stopping ??= (async () => {
        await api.close();
        await conn.close();
      })();
      return stopping;
    },
  };
}

/** Parsed by each parser thread and the event loop at start-up, so the first defines do not pay for a cold JIT. */
const WARM_UP_DEFINITION = [
  'name: warm-up',
  'machine: q35',
  'cpu: { vcpus: 2 }',
  'memory: 128M',
  'disks:',
  ...Array.from({ length: 8 }, (_, i) => `  - { path: /nonexistent/warm${i}.qcow2, format: qcow2, bus: ${i % 2 === 0 ? 'virtio' : 'scsi'} }`),
  'nics:',
  '  - { type: user, model: virtio }',
].join('\n');

/**
 * Gives every thread of the daemon the nice value `n` (threads created later inherit it). All of them:
 * the event loop waits on libuv's thread pool and V8's GC helpers, and a starved helper would stall it
 * (priority inversion). QEMU keeps the process's original value: the spawn server resets its own.
 */
async function renice(n: number, log: (line: string) => void): Promise<void> {
  const tids = await readdir('/proc/self/task').catch(() => [String(process.pid)]);
  let failed = 0;
  for (const t of tids) {
    try {
      setPriority(Number(t), n);
    } catch {
      failed++;
    }
  }
  // With scheduler autogroups (one per session), nice only ranks threads inside the session's group; the
  // group has a nice value of its own. Change it only when the daemon leads its session (systemd, setsid):
  // otherwise the group is the invoking shell's.
  const stat = await readFile('/proc/self/stat', 'utf8').catch(() => '');
  const session = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
  const leader = session === process.pid;
  const group =
    leader &&
    (await writeFile('/proc/self/autogroup', String(n)).then(
      () => true,
      () => false,
    ));
  if (failed > 0) log(`cannot set nice ${n} on ${failed} of ${tids.length} threads (needs CAP_SYS_NICE to lower it)`);
  else log(`daemon threads${group ? ' and its scheduler autogroup' : ''} run at nice ${n}; QEMU at the normal priority`);
  if (!leader) log('the daemon shares its session (and scheduler autogroup) with its parent: start it with setsid (systemd does) for --nice to hold against many QEMUs');
}

function absolute(path: string, flag: string): string {
  if (path === '') throw new VmkitError('InvalidArgument', `${flag} must not be empty`);
  return isAbsolute(path) ? path : resolve(path);
}

async function groupId(name: string): Promise<number | undefined> {
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  return parseGroup(text).find((g) => g.name === name)?.gid;
}
