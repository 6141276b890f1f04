import { formatProblem, isVmkitError, type Problem } from '../errors.js';
import { exitCodeFor, EXIT } from './exit-codes.js';

export interface OutputOptions {
  readonly json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * One line for each entry of an error's `details.problems`. They are Problems everywhere in vmkit, but
 * errors also arrive over the daemon's API, so anything else is shown as it is, never as `undefined`.
 */
export function problemLines(details: Readonly<Record<string, unknown>>): string[] {
  const list = details.problems;
  if (!Array.isArray(list)) return [];
  return list.map((x: unknown) => {
    if (typeof x === 'string') return x;
    if (x === null || typeof x !== 'object') return JSON.stringify(x) ?? String(x);
    const o = x as Record<string, unknown>;
    if (typeof o.message !== 'string') return JSON.stringify(x);
    const str = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
    const num = (k: string): number | undefined => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
    const p: Problem = {
      path: str('path') ?? '',
      message: o.message,
      ...(str('file') === undefined ? {} : { file: str('file') as string }),
      ...(num('line') === undefined ? {} : { line: num('line') as number }),
      ...(num('col') === undefined ? {} : { col: num('col') as number }),
      ...(str('expected') === undefined ? {} : { expected: str('expected') as string }),
      ...(str('found') === undefined ? {} : { found: str('found') as string }),
    };
    return formatProblem(p);
  });
}

/** Reports an error (human or JSON) and returns the exit status for it. */
export function reportError(e: unknown, opts: OutputOptions = {}): number {
  if (isVmkitError(e)) {
    const problems = problemLines(e.details);
    if (opts.json === true) {
      printJson({ error: e.toJSON() });
    } else if (problems.length > 0) {
      const head = e.message.split('\n')[0] ?? '';
      // A HostError's first line says what could not be done; a ConfigError's only counts the problems.
      if (e.code !== 'InvalidConfig' && head !== '') process.stderr.write(`vmkit: ${head.replace(/:$/, '')}:\n`);
      for (const p of problems) process.stderr.write(`vmkit: ${p}\n`);
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
