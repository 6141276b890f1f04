import { dirname } from 'node:path';
import { readDefinitionFile } from '../config/load-definition-file.js';
import { looksLikeXml } from '../config/format-keys.js';
import { parseDefinitionFast } from '../config/parse-fast.js';
import { formatProblem, type Problem } from '../errors.js';
import type { QemuCaps } from '../host/caps/types.js';
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
  const where = { file: path, baseDir: dirname(path) };
  // A valid plain native definition needs neither the YAML library nor the XML reader: they load for the rest.
  // (The fast path loads with the command, in parallel with its other modules: a dynamic import here was a
  // further round of module loading before every run, ~5 ms.)
  const fast = looksLikeXml(text) ? undefined : parseDefinitionFast(text, where);
  const spec =
    fast ??
    (await import('../config/parse-definition.js')).parseDefinition(text, { ...where, lenient: opts.lenient === true, onWarning: (w) => warnings.push(printWarning(w, opts)) });
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
  // Positions are looked up (locate-spec.ts, with the format's reader) only for what is reported.
  const tuningWarnings: Problem[] = [];
  try {
    await checkTuning(spec, { onWarning: (w) => tuningWarnings.push({ file: path, ...w }) });
  } catch (e) {
    throw (await import('../host/caps/locate-spec.js')).placeProblems(e, spec, text);
  }
  if (tuningWarnings.length > 0) {
    const { withPositions } = await import('../host/caps/locate-spec.js');
    for (const w of tuningWarnings) warnings.push(printWarning(withPositions([w], spec, text)[0] ?? w, opts));
  }
  return { spec, path, text, caps, warnings };
}
