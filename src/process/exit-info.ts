/** Why a VM stopped. */
export type StopReason =
  | 'shutdown' // the guest powered itself off (possibly after an ACPI request from vmkit)
  | 'destroyed' // vmkit (or its caller) stopped QEMU
  | 'crashed' // QEMU died unexpectedly, or the guest panicked
  | 'failed' // QEMU never got to run the guest
  | 'saved' // vmkit saved the guest's state to a file and stopped QEMU (vmkit save)
  | 'migrated'; // the guest now runs elsewhere (vmkit migrate)

export interface ExitInfo {
  readonly reason: StopReason;
  /** QEMU's exit status, or null when a signal ended it. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The SHUTDOWN event reason QEMU reported, e.g. `guest-shutdown`, `host-signal`, `guest-panic`. */
  readonly qemuReason?: string;
  /** True when vmkit asked the guest to power off (ACPI) before it stopped. */
  readonly requested: boolean;
  /** The last lines QEMU wrote to stderr. */
  readonly stderrTail: readonly string[];
  readonly message: string;
}

export interface ExitFacts {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly shutdownEvent?: { readonly guest: boolean; readonly reason: string };
  readonly powerdownRequested: boolean;
  readonly destroyRequested: boolean;
  readonly stderrTail: readonly string[];
}

/** Classifies an exit from what was observed. Pure. */
export function classifyExit(f: ExitFacts): ExitInfo {
  const base = {
    exitCode: f.exitCode,
    signal: f.signal,
    requested: f.powerdownRequested,
    stderrTail: f.stderrTail,
    ...(f.shutdownEvent === undefined ? {} : { qemuReason: f.shutdownEvent.reason }),
  };
  const status = f.signal !== null ? `signal ${f.signal}` : `status ${f.exitCode ?? '?'}`;
  const ev = f.shutdownEvent;
  if (ev?.reason === 'guest-panic') {
    return { ...base, reason: 'crashed', message: 'The guest kernel panicked' };
  }
  if (f.destroyRequested) {
    return { ...base, reason: 'destroyed', message: `QEMU was stopped by vmkit (${status})` };
  }
  if (ev !== undefined && ev.guest && (ev.reason === 'guest-shutdown' || ev.reason === 'guest-reset') && f.exitCode === 0) {
    const how = ev.reason === 'guest-reset' ? 'reset (QEMU runs with -no-reboot)' : 'powered off';
    return { ...base, reason: 'shutdown', message: `The guest ${how}${f.powerdownRequested ? ' after an ACPI power-off request' : ''}` };
  }
  if (f.exitCode === 0 && f.signal === null) {
    return { ...base, reason: 'shutdown', message: `QEMU exited normally${ev === undefined ? '' : ` (${ev.reason})`}` };
  }
  const tail = f.stderrTail.length > 0 ? `: ${f.stderrTail.join(' | ')}` : '';
  return { ...base, reason: 'crashed', message: `QEMU exited unexpectedly with ${status}${tail}` };
}
