/**
 * One bounded wait: a promise that settles by its own logic, or rejects with Timeout after `timeoutMs`, or
 * with Aborted when `signal` fires, whichever comes first. Timers are unref'd and always cleared, and the
 * abort listener is always removed, so a settled wait leaves nothing behind.
 */
import { VmkitError } from '../errors.js';
import { abortedError, timeoutError } from './errors.js';

/** Default bound for one QMP command, greeting or event wait. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** The largest delay setTimeout honours; larger finite values would fire after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Checks a caller-supplied bound. `Infinity` means "no time bound" (the AbortSignal still applies);
 * otherwise the value must be a positive number of milliseconds no larger than 2^31-1.
 */
export function checkTimeout(timeoutMs: number): number {
  if (timeoutMs === Infinity) return timeoutMs;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMER_MS) {
    throw new VmkitError(
      'InvalidArgument',
      `Invalid timeoutMs ${String(timeoutMs)}: use a positive number of milliseconds up to ${MAX_TIMER_MS}, or Infinity`,
      { details: { timeoutMs } },
    );
  }
  return timeoutMs;
}

export interface BoundedWait {
  /** Completes "Timed out after N ms <what>" / "Aborted <what>", e.g. "waiting for QMP event 'STOP'". */
  what: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Carried in the Timeout/Aborted error details. */
  details: Record<string, unknown>;
}

/**
 * Runs `start(resolve, reject)`; `start` may return a cleanup function, which runs exactly once when the
 * wait settles in any way (including when `start` itself throws).
 */
export function bounded<T>(
  w: BoundedWait,
  start: (resolve: (v: T) => void, reject: (e: unknown) => void) => (() => void) | void,
): Promise<T> {
  return new Promise<T>((resolvePromise, rejectPromise) => {
    let done = false;
    let cleanup: (() => void) | void;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => finish(() => rejectPromise(abortedError(w.what, w.signal?.reason, w.details)));
    function finish(settle: () => void): void {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      w.signal?.removeEventListener('abort', onAbort);
      if (typeof cleanup === 'function') cleanup();
      settle();
    }
    if (w.signal?.aborted === true) {
      rejectPromise(abortedError(w.what, w.signal.reason, w.details));
      return;
    }
    try {
      checkTimeout(w.timeoutMs);
    } catch (e) {
      rejectPromise(e);
      return;
    }
    if (w.timeoutMs !== Infinity) {
      timer = setTimeout(() => finish(() => rejectPromise(timeoutError(w.what, w.timeoutMs, w.details))), w.timeoutMs);
      timer.unref();
    }
    w.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      cleanup = start(
        (v) => finish(() => resolvePromise(v)),
        (e) => finish(() => rejectPromise(e)),
      );
    } catch (e) {
      finish(() => rejectPromise(e));
      return;
    }
    // start() may have settled synchronously, before `cleanup` was assigned.
    if (done && typeof cleanup === 'function') cleanup();
  });
}
