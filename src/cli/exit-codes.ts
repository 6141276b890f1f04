import type { ErrorCode } from '../errors.js';

/** The one place mapping error codes to CLI exit statuses: 2 bad input, 1 runtime failure. */
export const EXIT = { ok: 0, failure: 1, badInput: 2, sigint: 130, sigterm: 143 } as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'InvalidConfig':
    case 'InvalidArgument':
    case 'NotFound':
    case 'AlreadyExists':
    case 'PermissionDenied': // the definition asks for what this client may not: change it, or ask root
      return EXIT.badInput;
    default:
      return EXIT.failure;
  }
}
