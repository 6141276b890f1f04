/** The one place mapping error codes to HTTP statuses (and back, for the client). */
import { ConfigError, VmkitError, type ErrorCode, type Problem } from '../errors.js';

export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case 'InvalidArgument':
      return 400;
    case 'PermissionDenied':
      return 403;
    case 'NotFound':
      return 404;
    case 'AlreadyExists':
    case 'InvalidState':
      return 409;
    case 'InvalidConfig':
      return 422;
    case 'Aborted':
      return 499;
    case 'QemuFailed':
    case 'QmpError':
    case 'QmpClosed':
      return 502;
    case 'Timeout':
      return 504;
    case 'HostError':
    case 'Internal':
      return 500;
  }
}

/** The JSON body of an error response. */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly details: Readonly<Record<string, unknown>> };
}

export function errorBody(e: unknown): { status: number; body: ErrorBody } {
  if (e instanceof VmkitError) return { status: httpStatusFor(e.code), body: { error: e.toJSON() } };
  const message = e instanceof Error ? e.message : String(e);
  return { status: 500, body: { error: { code: 'Internal', message: `Internal error in the vmkit daemon: ${message}`, details: {} } } };
}

const CODES = new Set<ErrorCode>([
  'InvalidConfig',
  'InvalidArgument',
  'NotFound',
  'AlreadyExists',
  'InvalidState',
  'QemuFailed',
  'QmpError',
  'QmpClosed',
  'Timeout',
  'Aborted',
  'HostError',
  'PermissionDenied',
  'Internal',
]);

/** Rebuilds the library's error from a response body, so callers see the same error either way. */
export function errorFromBody(status: number, body: unknown): VmkitError {
  const err = (body as Partial<ErrorBody> | undefined)?.error;
  if (err === undefined || typeof err.message !== 'string' || !CODES.has(err.code)) {
    return new VmkitError('Internal', `The vmkit daemon answered HTTP ${status} without an error body`, { details: { status } });
  }
  const details = err.details ?? {};
  if (err.code === 'InvalidConfig' && Array.isArray(details.problems)) return new ConfigError(details.problems as Problem[]);
  return new VmkitError(err.code, err.message, { details: { ...details } });
}
