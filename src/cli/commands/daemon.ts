/**
 * `vmkit daemon [--socket PATH] [--root DIR]`: serves the root's Connection over HTTP/JSON on a unix
 * socket until SIGTERM/SIGINT, which stop serving and leave every VM running (a restarted daemon re-adopts
 * them). Prints one line when ready (JSON with --json).
 */
import { startDaemon } from '../../api/daemon.js';
import { VmkitError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import { VERSION } from '../version.js';
import { printJson, reportError } from '../output.js';

export interface DaemonFlags {
  readonly socket?: string;
  readonly root?: string;
  readonly socketMode?: string;
  readonly autostart?: boolean;
  readonly nice?: string;
  readonly web?: string;
  readonly metrics?: string;
  readonly allowNonLoopback?: boolean;
  readonly json?: boolean;
}

export async function daemonCommand(flags: DaemonFlags): Promise<number> {
  const log = (line: string): void => {
    process.stderr.write(`vmkit daemon: ${line}\n`);
  };
  let mode: number | undefined;
  if (flags.socketMode !== undefined) {
    mode = /^0?[0-7]{3}$/.test(flags.socketMode) ? Number.parseInt(flags.socketMode, 8) : NaN;
    if (Number.isNaN(mode)) return reportError(new VmkitError('InvalidArgument', `--socket-mode must be octal permission bits like 0660, got '${flags.socketMode}'`), flags);
  }
  let niceness: number | undefined;
  if (flags.nice !== undefined) {
    niceness = Number(flags.nice);
    if (!Number.isInteger(niceness) || niceness < -20 || niceness > 19) return reportError(new VmkitError('InvalidArgument', `--nice must be a whole number from -20 to 19, got '${flags.nice}'`), flags);
  }
  // --web / --metrics load their servers (ws, prom-client) only when given.
  let observe: typeof import('../../web/start-observe.js') | undefined;
  let addresses: import('../../web/start-observe.js').ObserveAddresses = {};
  if (flags.web !== undefined || flags.metrics !== undefined) {
    observe = await import('../../web/start-observe.js');
    try {
      addresses = observe.parseObserveFlags(flags);
    } catch (e) {
      return reportError(e, flags);
    }
  }
  let daemon;
  let observing: import('../../web/start-observe.js').Observing | undefined;
  try {
    daemon = await startDaemon({
      version: VERSION,
      log,
      ...(flags.socket === undefined ? {} : { socket: flags.socket }),
      ...(flags.root === undefined ? {} : { root: flags.root }),
      ...(mode === undefined ? {} : { socketMode: mode }),
      ...(flags.autostart === false ? { autostart: false } : {}),
      ...(niceness === undefined ? {} : { niceness }),
    });
    if (observe !== undefined) {
      const d = daemon;
      observing = await observe.startObserve(d.conn, addresses, log).catch(async (e: unknown) => {
        await d.stop();
        throw e;
      });
    }
  } catch (e) {
    return reportError(e, flags);
  }
  const ready = { pid: process.pid, socket: daemon.socket, root: daemon.root, ...daemon.report, ...(observing?.ready ?? {}) };
  if (flags.json === true) printJson(ready);
  else log(`ready (pid ${process.pid})`);
  const sig = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log(`${sig}: stopping; running VMs keep running`);
  await observing?.close();
  await daemon.stop();
  return EXIT.ok;
}
