/**
 * The errors the QMP layer raises. All are VmkitError with one of the codes QmpError, QmpClosed, Timeout,
 * Aborted or InvalidArgument; `details` always names the command, event or path involved.
 */
import { VmkitError } from '../errors.js';

/** QEMU answered a command with `{"error": {"class", "desc"}}`. */
export function qmpCommandError(command: string, errorClass: string, desc: string): VmkitError {
  return new VmkitError('QmpError', `QMP command '${command}' failed: ${desc} (${errorClass})`, {
    details: { command, class: errorClass, desc },
  });
}

/**
 * The connection closed while something was pending. `when` completes the sentence
 * "QMP connection <where> closed <when>", e.g. "while waiting for the reply to QMP command 'cont'".
 */
export function qmpClosedError(when: string, where: string, details: Record<string, unknown>, cause?: Error): VmkitError {
  const because = cause === undefined ? '' : `: ${cause.message}`;
  return new VmkitError('QmpClosed', `QMP connection ${where} closed ${when}${because}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { ...details, where },
  });
}

/** `what` did not finish within `timeoutMs`. */
export function timeoutError(what: string, timeoutMs: number, details: Record<string, unknown>): VmkitError {
  return new VmkitError('Timeout', `Timed out after ${timeoutMs} ms ${what}; raise timeoutMs if QEMU is just slow`, {
    details: { ...details, timeoutMs },
  });
}

/** `what` was cancelled through its AbortSignal; the signal's reason is the cause. */
export function abortedError(what: string, reason: unknown, details: Record<string, unknown>): VmkitError {
  return new VmkitError('Aborted', `Aborted ${what}`, { cause: reason, details });
}
