/** Turns what `define` accepts into a stored definition: native text, format and resolved spec. */
import { dirname, resolve } from 'node:path';
import { checkDefinitionText, readDefinitionText } from '../config/definition-text.js';
import { parsedFromText } from '../config/parsed-specs.js';
import type { DomainSpec } from '../model/domain.js';
import type { DefinitionFormat } from './api-types.js';
import type { ParsePool } from './parse-pool.js';

/**
 * What `define` accepts: a spec, a definition file, or a definition's text. A spec is checked like a
 * definition (config/check-spec.ts) and stored as the definition it was checked through, or as `source`:
 * the text it was parsed from (kept for `dump` and to place problems found at start at file:line:col).
 */
export type DefinitionInput =
  | { readonly spec: DomainSpec; readonly source?: { readonly text: string; readonly file?: string } }
  | { readonly path: string }
  | { readonly text: string; readonly file?: string; readonly baseDir?: string };

export interface ParsedDefinition {
  readonly spec: DomainSpec;
  readonly format: DefinitionFormat;
  readonly text: string;
  readonly file?: string;
  readonly baseDir?: string;
}

/** Largest definition the daemon's event loop reads itself (fast path); larger ones go to the parser threads. */
const MAX_IN_THREAD_BYTES = 64 * 1024;

export { MAX_DEFINITION_BYTES } from '../config/definition-text.js';

/** Parses the input (pure for text and spec; one bounded file read for a path). Throws ConfigError listing every problem. */
export async function readDefinition(input: DefinitionInput | DomainSpec, pool?: ParsePool): Promise<ParsedDefinition> {
  if (!('path' in input) && !('text' in input) && !('spec' in input)) return fromSpec(input);
  if ('spec' in input) return fromSpec(input.spec, input.source);
  if ('path' in input) {
    const file = resolve(input.path);
    return fromText(await readDefinitionText(file), file, dirname(file), pool);
  }
  const text = checkDefinitionText(input.text);
  const baseDir = input.baseDir ?? (input.file === undefined ? process.cwd() : dirname(resolve(input.file)));
  return fromText(text, input.file, baseDir, pool);
}

async function fromText(text: string, file: string | undefined, baseDir: string, pool: ParsePool | undefined): Promise<ParsedDefinition> {
  // The parsers load with the first definition read: a connection that only lists or starts never needs them.
  // Plain valid native YAML takes the fast path (parse-fast.ts, no YAML library); with a parser pool
  // (daemon), only ordinary sizes are read here (a fraction of a millisecond, less than a round trip to a
  // thread); the rest, and every definition with a problem, go to the full parser or the pool.
  const { parseDefinitionFast } = await import('../config/parse-fast.js');
  const opts = { ...(file === undefined ? {} : { file }), baseDir };
  const fast = pool === undefined || text.length <= MAX_IN_THREAD_BYTES ? parseDefinitionFast(text, opts) : undefined;
  const spec = fast ?? (pool === undefined ? (await import('../config/parse-definition.js')).parseDefinition(text, opts) : await pool.parse(text, opts));
  return { spec, format: spec.source.format, text, ...(file === undefined ? {} : { file }), baseDir };
}

async function fromSpec(spec: unknown, source?: { readonly text: string; readonly file?: string }): Promise<ParsedDefinition> {
  const file = source?.file === undefined ? undefined : resolve(source.file);
  const where = file === undefined ? {} : { file, baseDir: dirname(file) };
  // A spec this process's parser made from this very text (vmkit run) is that text's spec: no second check.
  if (source !== undefined && parsedFromText(spec, source.text)) {
    const trusted = spec as DomainSpec;
    return { spec: trusted, format: trusted.source.format, text: checkDefinitionText(source.text, 'The source text of a spec'), ...where };
  }
  const { checkSpec } = await import('../config/check-spec.js');
  const checked = checkSpec(spec);
  if (source === undefined) return { spec: checked.spec, format: checked.format, text: checked.text };
  const text = checkDefinitionText(source.text, 'The source text of a spec');
  return { spec: checked.spec, format: checked.spec.source.format, text, ...where };
}
