/**
 * The steps before QEMU exists, each named for what it does (QemuProcess.launch runs them in order, then
 * spawns QEMU, connects its monitor and finishes the start-up):
 *   1. prepareLaunch: host facts (setpriv, the QEMU binary, the user to run as, the binary's capabilities,
 *      libvirt network bridges) and the run directory with the sockets QEMU will connect to, concurrently;
 *   2. commandLine: the argv, built once, checked against the capabilities, and the command that runs it;
 *   3. prepareHost: what must exist on the host before QEMU runs (bridge helper ACL, serial file, run
 *      directory ownership, firmware variable store).
 * A failing step undoes what the earlier ones did (Prepared.discard); nothing is left behind.
 */
import { ConfigError, isVmkitError, VmkitError } from '../errors.js';
import { readIdentity, type Identity } from '../host/accounts.js';
import { hostProblems } from '../host/caps/check-spec.js';
import type { QemuCaps } from '../host/caps/types.js';
import { networkBridges, type NetworkBridge } from '../host/libvirt-network.js';
import { requireExecutable } from '../host/path-lookup.js';
import { routesConsole, type DomainSpec } from '../model/domain.js';
import { buildArgv } from '../qemu/argv/index.js';
import { QmpListener } from '../qmp/index.js';
import { argvContext } from './argv-context.js';
import { checkBridges } from './bridge-helper.js';
import { qemuCommand, qemuEnvironment } from './command.js';
import { ConsoleListener } from './console-listener.js';
import { prepareFirmware } from './firmware.js';
import { prepareManagedHostdevs, type ManagedHostdevs } from './managed-hostdevs.js';
import { capsCacheFor } from './host-check.js';
import type { LaunchOptions } from './qemu-process.js';
import { prepareSerialFile } from './serial-files.js';
import { createRunDir, removeRunDir, shareRunDir, type RunDir } from './state-dir.js';

/** What step 1 found and made. */
export interface Prepared {
  readonly setpriv: string;
  readonly qemu: string;
  /** The user QEMU runs as, when the definition names one. */
  readonly identity: Identity | undefined;
  readonly caps: QemuCaps;
  readonly networks: ReadonlyMap<string, NetworkBridge>;
  readonly runDir: RunDir;
  readonly qmpListener: QmpListener;
  /** The serial console's listener, when vmkit routes the console. */
  readonly consoleListener: ConsoleListener | undefined;
  /** Closes the listeners (no-op once QEMU connected). */
  closeListeners(): Promise<void>;
  /** Undoes step 1 when a later step fails before QEMU was spawned: listeners closed, run directory removed. */
  discard(): Promise<void>;
}

/** Step 2's result: the argv QEMU runs (checked), and the command and environment that start it. */
export interface CommandLine {
  readonly argv: readonly string[];
  readonly cmd: { readonly file: string; readonly args: string[] };
  readonly env: NodeJS.ProcessEnv;
}

/** Step 1. Rejects with the first failure after undoing the rest (no listener, no run directory left). */
export async function prepareLaunch(spec: DomainSpec, opts: LaunchOptions, signal: AbortSignal): Promise<Prepared> {
  const env = opts.env ?? process.env;
  // Settled in this order, so that the most precise failure is the one reported: a missing binary is a
  // problem at the definition's `emulator` field (lookupCaps) before it is a bare NotFound.
  const facts = allInOrder([
    lookupCaps(spec, opts, signal),
    requireExecutable('setpriv', 'install util-linux (apt-get install util-linux)', env),
    requireExecutable(spec.emulator, `install QEMU (apt-get install qemu-system-x86) or set 'emulator' to the binary's path`, env),
    qemuIdentity(spec, opts),
    networkBridges(spec),
  ] as const);
  const wantsConsole = routesConsole(spec);
  const made = createRunDir(opts.root, spec.name).then(async (dir) => {
    const [q, c] = await Promise.allSettled([QmpListener.listen(dir.qmpSocket), wantsConsole ? ConsoleListener.listen(dir.consoleSocket) : Promise.resolve(undefined)]);
    return { dir, q, c };
  });
  const [found, dirs] = await Promise.allSettled([facts, made]);
  const qmpListener = dirs.status === 'fulfilled' && dirs.value.q.status === 'fulfilled' ? dirs.value.q.value : undefined;
  const consoleListener = dirs.status === 'fulfilled' && dirs.value.c.status === 'fulfilled' ? dirs.value.c.value : undefined;
  const closeListeners = async (): Promise<void> => {
    await qmpListener?.close().catch(() => undefined);
    await consoleListener?.close().catch(() => undefined);
  };
  const failure =
    found.status === 'rejected'
      ? found.reason
      : dirs.status === 'rejected'
        ? dirs.reason
        : [dirs.value.q, dirs.value.c].find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
  if (failure !== undefined || found.status === 'rejected' || dirs.status === 'rejected' || qmpListener === undefined) {
    await closeListeners();
    if (dirs.status === 'fulfilled') await removeRunDir(dirs.value.dir);
    throw failure;
  }
  const [caps, setpriv, qemu, identity, networks] = found.value;
  const runDir = dirs.value.dir;
  return {
    setpriv,
    qemu,
    identity,
    caps,
    networks,
    runDir,
    qmpListener,
    consoleListener,
    closeListeners,
    discard: async () => {
      await closeListeners();
      await removeRunDir(runDir);
    },
  };
}

/**
 * The account QEMU runs as: the definition's `user`/`group`, else the connection's default (a root daemon
 * runs QEMU as `vmkit-qemu`), else this process's own (undefined).
 */
async function qemuIdentity(spec: DomainSpec, opts: LaunchOptions): Promise<Identity | undefined> {
  const { user, group } = spec.process;
  if (user !== undefined || group !== undefined || opts.defaultUser === undefined) return readIdentity(user, group);
  try {
    return await readIdentity(opts.defaultUser, undefined);
  } catch (e) {
    throw new VmkitError('HostError', `QEMU runs as the account '${opts.defaultUser}' here, which does not exist: create it (useradd --system --no-create-home --shell /usr/sbin/nologin --groups kvm ${opts.defaultUser}; scripts/setup.sh does), give the domain a \`user:\`, or start the daemon with --qemu-user`, { cause: e, details: { user: opts.defaultUser } });
  }
}

/** Like Promise.all, but waits for every promise and rejects with the first failure in list order. */
async function allInOrder<T extends readonly unknown[]>(promises: { readonly [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const all = await Promise.allSettled(promises);
  const failed = all.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return all.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** The binary's capabilities (one look-up: a few stat calls when the cache is warm); a missing binary is a problem at its field. */
async function lookupCaps(spec: DomainSpec, opts: LaunchOptions, signal: AbortSignal): Promise<QemuCaps> {
  const cache = opts.caps ?? capsCacheFor();
  try {
    return await cache.lookup(spec.emulator, { signal });
  } catch (e) {
    if (!isVmkitError(e) || e.code !== 'NotFound') throw e;
    // hostProblems turns a missing binary into a problem at `emulator` (or `launcher.binary`), with its position.
    const { problems } = await hostProblems(spec, { cache, signal, ...sourceOf(opts) });
    throw problems.length > 0 ? new ConfigError(problems) : e;
  }
}

/**
 * Step 2: the argv, built once from the run directory's real paths and the binary's accelerator, then
 * checked as it is against the capabilities (machine, CPU model, devices, backends). Problems are located in
 * the definition's text only when there are some.
 */
export async function commandLine(spec: DomainSpec, p: Prepared, opts: LaunchOptions, signal: AbortSignal): Promise<CommandLine> {
  const built = buildArgv(spec, await argvContext(spec, p.runDir, p.caps, p.networks));
  const cache = opts.caps ?? capsCacheFor();
  let { problems } = await hostProblems(spec, { cache, caps: p.caps, argv: built, signal });
  if (problems.length > 0 && opts.source !== undefined) ({ problems } = await hostProblems(spec, { cache, caps: p.caps, argv: built, signal, ...sourceOf(opts) }));
  if (problems.length > 0) throw new ConfigError(problems);
  const argv = [...built, ...(opts.extraArgs?.(p.runDir) ?? [])];
  return {
    argv,
    cmd: qemuCommand(p.setpriv, p.qemu, argv, p.identity, { pdeathsig: opts.detached !== true }),
    env: qemuEnvironment(spec.process, opts.env ?? process.env),
  };
}

function sourceOf(opts: LaunchOptions): { text?: string; file?: string } {
  const s = opts.source;
  if (s === undefined) return {};
  return { text: s.text, ...(s.file === undefined ? {} : { file: s.file }) };
}

/**
 * Step 3: what the host must have before QEMU runs; last, managed host devices are bound to vfio-pci.
 * Returns those devices' give-back (the caller releases them when QEMU ends or the start fails).
 */
export async function prepareHost(spec: DomainSpec, p: Prepared, opts: LaunchOptions): Promise<ManagedHostdevs> {
  await checkBridges(spec, { asRoot: (p.identity?.uid ?? process.getuid?.()) === 0, networks: p.networks });
  await prepareSerialFile(spec, p.identity);
  if (p.identity !== undefined) await shareRunDir(opts.root, p.runDir, p.identity, p.consoleListener !== undefined);
  await prepareFirmware(spec, p.identity);
  return prepareManagedHostdevs(spec, p.identity === undefined ? {} : { owner: p.identity });
}

