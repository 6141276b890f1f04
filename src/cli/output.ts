import { formatProblem, isVmkitError, type Problem } from '../errors.js';
import { exitCodeFor, EXIT } from './exit-codes.js';

export interface OutputOptions {
  readonly json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Reports an error (human or JSON) and returns the exit status for it. */
export function reportError(e: unknown, opts: OutputOptions = {}): number {
  if (isVmkitError(e)) {
    const problems = (e.details.problems as readonly Problem[] | undefined) ?? [];
    if (opts.json === true) {
      printJson({ error: e.toJSON() });
    } else if (problems.length > 0) {
      for (const p of problems) process.stderr.write(`vmkit: ${formatProblem(p)}\n`);
      process.stderr.write(`vmkit: ${problems.length} problem${problems.length === 1 ? '' : 's'} found\n`);
    } else {
      process.stderr.write(`vmkit: ${e.message}\n`);
    }
    return exitCodeFor(e.code);
  }
  const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
  if (opts.json === true) printJson({ error: { code: 'Internal', message } });
  else process.stderr.write(`vmkit: internal error: ${message}\n`);
  return EXIT.failure;
}
