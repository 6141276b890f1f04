/** Turns what `define` accepts into a stored definition: native text, format and resolved spec. */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { VmkitError } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';
import type { DefinitionFormat } from './api-types.js';
import type { ParsePool } from './parse-pool.js';
import { MAX_DEFINITION_BYTES } from './definition-limits.js';

/** What `define` accepts: a spec, a definition file, or a definition's text. */
export type DefinitionInput =
  | { readonly spec: DomainSpec }
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

export { MAX_DEFINITION_BYTES };

/** Parses the input (pure for text and spec; one file read for a path). Throws ConfigError listing every problem. */
export async function readDefinition(input: DefinitionInput | DomainSpec, pool?: ParsePool): Promise<ParsedDefinition> {
  if (!('path' in input) && !('text' in input) && !('spec' in input)) return fromSpec(input);
  if ('spec' in input) return fromSpec(input.spec);
  if ('path' in input) {
    const file = resolve(input.path);
    let text: string;
    try {
      const st = await stat(file);
      if (st.size > MAX_DEFINITION_BYTES) {
        throw new VmkitError('InvalidArgument', `Definition ${file} is ${st.size} bytes, more than the ${MAX_DEFINITION_BYTES} a definition may have; is it the right file?`);
      }
      text = await readFile(file, 'utf8');
    } catch (e) {
      if (e instanceof VmkitError) throw e;
      const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'NotFound' : 'HostError';
      throw new VmkitError(code, `Cannot read definition ${file}: ${(e as Error).message}`, { cause: e, details: { path: file } });
    }
    return fromText(text, file, dirname(file), pool);
  }
  if (typeof input.text !== 'string') throw new VmkitError('InvalidArgument', 'A definition text must be a string');
  if (Buffer.byteLength(input.text) > MAX_DEFINITION_BYTES) {
    throw new VmkitError('InvalidArgument', `The definition is larger than the ${MAX_DEFINITION_BYTES} bytes a definition may have`);
  }
  const baseDir = input.baseDir ?? (input.file === undefined ? process.cwd() : dirname(resolve(input.file)));
  return fromText(input.text, input.file, baseDir, pool);
}

async function fromText(text: string, file: string | undefined, baseDir: string, pool: ParsePool | undefined): Promise<ParsedDefinition> {
  // The parsers load with the first definition read: a connection that only lists or starts never needs them.
  const { parseDefinition, parseDefinitionFast } = await import('../config/parse-definition.js');
  const opts = { ...(file === undefined ? {} : { file }), baseDir };
  // With a parser pool (daemon), ordinary plain definitions are read here (a fraction of a millisecond,
  // less than a round trip to a thread); the rest, and every definition with a problem, go to the pool.
  const spec =
    pool === undefined ? parseDefinition(text, opts) : ((text.length <= MAX_IN_THREAD_BYTES ? parseDefinitionFast(text, opts) : undefined) ?? (await pool.parse(text, opts)));
  return { spec, format: spec.source.format, text, ...(file === undefined ? {} : { file }), baseDir };
}

function fromSpec(spec: DomainSpec): ParsedDefinition {
  if (spec === null || typeof spec !== 'object' || typeof spec.name !== 'string') {
    throw new VmkitError('InvalidArgument', 'A spec must be a DomainSpec object with a name');
  }
  return { spec, format: 'vmkit-spec', text: `${JSON.stringify(spec, null, 2)}\n` };
}
