/**
 * The vmkit error family. Every error a caller is expected to handle is a VmkitError with a literal
 * `code`; the CLI maps codes to exit statuses (cli/exit-codes.ts) and the daemon to HTTP statuses, each in
 * one place.
 */

export type ErrorCode =
  | 'InvalidConfig' // a definition file or spec has problems (see ConfigError.problems)
  | 'InvalidArgument' // a bad API argument or CLI flag
  | 'NotFound' // a domain, file or binary does not exist
  | 'AlreadyExists' // a domain with that name/uuid exists
  | 'InvalidState' // operation not allowed in the domain's current state
  | 'QemuFailed' // QEMU could not start or exited with an error
  | 'QmpError' // QEMU answered a QMP command with an error
  | 'QmpClosed' // the QMP connection closed
  | 'Timeout' // an operation did not finish in its time bound
  | 'Aborted' // an operation was cancelled through its AbortSignal
  | 'HostError' // a host operation (syscall, file) failed
  | 'PermissionDenied' // the client may not ask for this (a daemon's non-root client; see privileged-options.ts)
  | 'Internal';

export class VmkitError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VmkitError';
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }

  toJSON(): { code: ErrorCode; message: string; details: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** One problem found in a definition: where it is, which field, what was expected and what was found. */
export interface Problem {
  /** Source file, when the problem comes from a file. */
  readonly file?: string;
  /** 1-based line and column in `file`. */
  readonly line?: number;
  readonly col?: number;
  /** Field path such as `disks[0].format`; empty for the document itself. */
  readonly path: string;
  /** What is wrong and how to fix it, in one sentence. */
  readonly message: string;
  readonly expected?: string;
  readonly found?: string;
}

/** Formats a problem as `file:line:col: path: message (expected X, found Y)`. */
export function formatProblem(p: Problem): string {
  const where = p.file === undefined ? '' : `${p.file}${p.line === undefined ? '' : `:${p.line}:${p.col ?? 1}`}: `;
  const field = p.path === '' ? '' : `${p.path}: `;
  const ef: string[] = [];
  if (p.expected !== undefined) ef.push(`expected ${p.expected}`);
  if (p.found !== undefined) ef.push(`found ${p.found}`);
  return `${where}${field}${p.message}${ef.length > 0 ? ` (${ef.join(', ')})` : ''}`;
}

/** A definition with one or more problems. `problems` lists every one of them. */
export class ConfigError extends VmkitError {
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[], options: { cause?: unknown } = {}) {
    const head = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super('InvalidConfig', `Invalid definition: ${head}\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`, {
      ...options,
      details: { problems },
    });
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

export function isVmkitError(e: unknown): e is VmkitError {
  return e instanceof VmkitError;
}
