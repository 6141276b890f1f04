import { dirname } from 'node:path';
import { parseDefinition, readDefinitionFile } from '../config/index.js';
import { formatProblem, type Problem } from '../errors.js';
import { placeProblems, withPositions, type QemuCaps } from '../host/caps/index.js';
import type { DomainSpec } from '../model/domain.js';
import { checkHost } from '../process/host-check.js';
import { checkTuning } from '../tuning/index.js';

export interface CheckedDefinition {
  readonly spec: DomainSpec;
  readonly path: string;
  readonly text: string;
  readonly caps: QemuCaps;
  /** Lenient-import warnings and what will be done differently on this host (each printed unless `quiet`). */
  readonly warnings: readonly Problem[];
}

/** Reads and parses a definition; its warnings (--lenient) go to stderr as `vmkit: warning: ...` unless `quiet`. */
export async function loadParsed(arg: string, opts: { lenient?: boolean; quiet?: boolean } = {}): Promise<Omit<CheckedDefinition, 'caps'>> {
  const { path, text } = await readDefinitionFile(arg);
  const warnings: Problem[] = [];
  const spec = parseDefinition(text, { file: path, baseDir: dirname(path), lenient: opts.lenient === true, onWarning: (w) => warnings.push(printWarning(w, opts)) });
  return { spec, path, text, warnings };
}

/** Prints a warning (unless quiet) and returns it. */
export function printWarning(w: Problem, opts: { quiet?: boolean }): Problem {
  if (opts.quiet !== true) process.stderr.write(`vmkit: warning: ${formatProblem(w)}\n`);
  return w;
}

/**
 * Reads, parses and checks a definition against the QEMU binary's capabilities and the host's CPUs and
 * limits (tuning), so that every problem, of the file or of the host, comes with its file:line:col
 * (ConfigError) before anything starts. Warnings go to stderr as `vmkit: warning: ...` unless `quiet`,
 * and are returned for --json output.
 */
export async function loadChecked(arg: string, opts: { lenient?: boolean; quiet?: boolean } = {}): Promise<CheckedDefinition> {
  const { spec, path, text, warnings: parsed } = await loadParsed(arg, opts);
  const warnings = [...parsed];
  const caps = await checkHost(spec, { text, file: path });
  try {
    await checkTuning(spec, { onWarning: (w) => warnings.push(printWarning(withPositions([{ file: path, ...w }], spec, text)[0] ?? w, opts)) });
  } catch (e) {
    throw placeProblems(e, spec, text);
  }
  return { spec, path, text, caps, warnings };
}
