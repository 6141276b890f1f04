import { createWriteStream, type WriteStream } from 'node:fs';
import { VmkitError } from '../../errors.js';
import { openEmbedded } from '../../driver/connection.js';
import { oneShotPolicies } from '../../driver/policies.js';
import type { ExitInfo } from '../../process/exit-info.js';
import { createPrivateRoot, removePrivateRoot, sweepStalePrivateRoots } from '../../process/private-root.js';
import { loadParsed, printWarning } from '../definition.js';
import { EXIT } from '../exit-codes.js';
import { printJson, reportError } from '../output.js';
import { placeError } from '../place-error.js';
import { consoleUnavailable } from '../../process/serial-files.js';

export interface RunFlags {
  readonly console?: boolean;
  readonly grace: string;
  readonly log?: string;
  readonly json?: boolean;
  readonly timeout: string;
  readonly debug?: boolean;
  readonly lenient?: boolean;
}

/**
 * `vmkit run FILE`: one VM, embedded, in a fresh private root that is removed when the run ends.
 * Ctrl-C/SIGTERM asks the guest to power off (ACPI) and waits `--grace` seconds before stopping QEMU;
 * a second Ctrl-C stops it at once. Exit: 0 guest powered off, 1 QEMU failed/crashed, 2 bad input,
 * 130/143 stopped by SIGINT/SIGTERM.
 */
export async function runCommand(file: string, flags: RunFlags): Promise<number> {
  const grace = Number(flags.grace);
  const startTimeout = Number(flags.timeout);
  if (!Number.isFinite(grace) || grace < 0) return reportError(badFlag('--grace', flags.grace, 'a number of seconds ≥ 0'), flags);
  if (!Number.isFinite(startTimeout) || startTimeout <= 0) return reportError(badFlag('--timeout', flags.timeout, 'a number of seconds > 0'), flags);
  // Parsed here (warnings, policies); checked against the host once, by the start, on the argv it runs.
  let def;
  try {
    def = await loadParsed(file, { lenient: flags.lenient === true, quiet: flags.json === true });
  } catch (e) {
    return reportError(e, flags);
  }
  const { spec } = def;
  const warnings = [...def.warnings];
  await sweepStalePrivateRoots();
  const root = await createPrivateRoot();
  // A throw-away root: nothing in it needs to survive a crash, so the store skips its fsyncs.
  const conn = await openEmbedded({ root, noSync: true, unshared: true, hotplugPorts: 0 });
  let log: WriteStream | undefined;
  let stopSignal: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    const domain = conn.list()[0];
    if (domain === undefined) return;
    if (stopSignal === undefined && (domain.state() === 'paused' || domain.state() === 'crashed')) {
      // A guest kept by a preserve policy (or paused) cannot power off through ACPI: stop QEMU at once.
      stopSignal = sig;
      note('stopping QEMU (the guest is paused)', flags);
      domain.destroy({ graceMs: 0 }).catch(() => undefined);
    } else if (stopSignal === undefined) {
      stopSignal = sig;
      note(`${sig === 'SIGINT' ? 'Ctrl-C' : sig}: asking the guest to power off (ACPI); stopping it in ${grace} s (press Ctrl-C again to stop it now)`, flags);
      domain.shutdown({ timeoutMs: grace * 1000 }).catch(() => {
        if (domain.state() !== 'shutoff') {
          note(`the guest did not power off within ${grace} s: stopping QEMU`, flags);
          domain.destroy().catch(() => undefined);
        }
      });
    } else {
      note('stopping QEMU now', flags);
      domain.destroy({ graceMs: 0 }).catch(() => undefined);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const oneShot = oneShotPolicies(spec);
    for (const n of oneShot.notes) process.stderr.write(`vmkit: warning: ${n}\n`);
    const domain = await conn.define({ spec, source: { text: def.text, file: def.path } }, { policies: oneShot.override });
    // What the start does differently from what the definition implies (placed in the file), e.g. tuning.
    domain.on('warning', (w) => warnings.push(printWarning(w, { quiet: flags.json === true })));
    if (flags.log !== undefined) {
      log = createWriteStream(flags.log, { flags: 'a', mode: 0o600 });
      const l = log;
      domain.on('console', (chunk) => l.write(chunk));
    }
    const noConsole = flags.console === true ? consoleUnavailable(spec) : undefined;
    if (noConsole !== undefined) process.stderr.write(`vmkit: warning: --console has nothing to show: ${noConsole}\n`);
    if (flags.console === true) {
      domain.on('console', (chunk) => process.stdout.write(chunk));
      forwardStdin((data) => domain.writeConsole(data));
    }
    if (flags.debug === true || spec.tuning.debug) {
      domain.on('tuning', (_plan, text) => process.stderr.write(`vmkit: tuning applied before the guest ran:\n${text.replace(/^/gm, '  ')}\n`));
    }
    const stopped = new Promise<ExitInfo>((resolve) => domain.once('stopped', resolve));
    domain.on('suspended', ({ reason }) => {
      if (reason === 'shutdown') note('the guest powered off; QEMU is kept, paused (on_poweroff preserve): Ctrl-C ends the run', flags);
    });
    domain.on('crashed', ({ reason }) => {
      if (reason === 'guest-panic' && domain.state() === 'crashed') note('the guest crashed; QEMU is kept, paused (on_crash preserve): Ctrl-C ends the run', flags);
    });
    await domain.start({ timeoutMs: startTimeout * 1000 });
    const accel = domain.process?.argv.find((a) => a.includes('accel='))?.match(/accel=(\w+)/)?.[1];
    note(`started '${spec.name}' (pid ${domain.pid ?? '?'}${accel === undefined ? '' : `, accel ${accel}`})`, flags);
    const info = await stopped;
    const code = exitStatus(info, stopSignal);
    if (flags.json === true) printJson({ name: spec.name, ...info, status: code, warnings });
    else if (code === EXIT.failure) process.stderr.write(`vmkit: ${info.message}\n${info.stderrTail.map((l) => `  qemu: ${l}\n`).join('')}`);
    else note(info.message, flags);
    return code;
  } catch (e) {
    return reportError(await placeError(e, { spec, text: def.text }), flags);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.stdin.destroy();
    await conn.close();
    await removePrivateRoot(root);
    if (log !== undefined) await new Promise<void>((resolve) => log?.end(() => resolve()));
  }
}

function exitStatus(info: ExitInfo, sig: NodeJS.Signals | undefined): number {
  if (sig === 'SIGINT') return EXIT.sigint;
  if (sig === 'SIGTERM') return EXIT.sigterm;
  return info.reason === 'shutdown' ? EXIT.ok : EXIT.failure;
}

function forwardStdin(write: (data: Buffer) => void): void {
  process.stdin.on('data', (chunk: Buffer) => {
    try {
      write(chunk);
    } catch {
      // the VM is gone; the run is ending
    }
  });
  process.stdin.on('error', () => undefined);
}

function note(message: string, flags: RunFlags): void {
  if (flags.json !== true) process.stderr.write(`vmkit: ${message}\n`);
}

function badFlag(flag: string, value: string, expected: string): VmkitError {
  return new VmkitError('InvalidArgument', `Invalid ${flag} '${value}': expected ${expected}`, { details: { flag, value } });
}
