import { dirname } from 'node:path';
import { parseDefinition, readDefinitionFile } from '../config/index.js';
import { formatProblem } from '../errors.js';
import type { QemuCaps } from '../host/caps/index.js';
import type { DomainSpec } from '../model/domain.js';
import { checkHost } from '../process/host-check.js';

export interface CheckedDefinition {
  readonly spec: DomainSpec;
  readonly path: string;
  readonly text: string;
  readonly caps: QemuCaps;
}

/** Reads and parses a definition (warnings, with --lenient, go to stderr unless `quiet`). */
export async function loadParsed(arg: string, opts: { lenient?: boolean; quiet?: boolean } = {}): Promise<Omit<CheckedDefinition, 'caps'>> {
  const { path, text } = await readDefinitionFile(arg);
  const spec = parseDefinition(text, {
    file: path,
    baseDir: dirname(path),
    lenient: opts.lenient === true,
    onWarning: (w) => {
      if (opts.quiet !== true) process.stderr.write(`vmkit: warning: ${formatProblem(w)}\n`);
    },
  });
  return { spec, path, text };
}

/**
 * Reads, parses and checks a definition against the QEMU binary's capabilities, so that every problem, of
 * the file or of the host, comes with its file:line:col (ConfigError) before anything starts.
 */
export async function loadChecked(arg: string, opts: { lenient?: boolean; quiet?: boolean } = {}): Promise<CheckedDefinition> {
  const { spec, path, text } = await loadParsed(arg, opts);
  const caps = await checkHost(spec, { text, file: path });
  return { spec, path, text, caps };
}
