/** Locating, reading (through the bounded reader of definition-text.ts) and parsing a definition file. */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readDefinitionText } from './definition-text.js';
import type { DomainSpec } from '../model/domain.js';
import { locateDefinition } from './locate-definition.js';

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Locates (see locateDefinition), reads and parses a definition. Throws VmkitError NotFound,
 * InvalidArgument (not a regular file or too large), HostError (unreadable) or ConfigError.
 */
export async function loadDefinitionFile(arg: string, opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<DomainSpec> {
  const { path, text } = await readDefinitionFile(arg, opts);
  // Loaded here: readDefinitionFile's callers (the CLI) take the fast path first (parse-fast.ts).
  const { parseDefinition } = await import('./parse-definition.js');
  return parseDefinition(text, { file: path, baseDir: dirname(path) });
}

/** Locates and reads a definition without parsing it (for callers that also need the text, for positions). */
export async function readDefinitionFile(arg: string, opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<{ path: string; text: string }> {
  const cwd = opts.cwd ?? process.cwd();
  let path: string;
  try {
    path = locateDefinition(arg, { env: opts.env ?? process.env, cwd, exists: isFile });
  } catch (e) {
    // Something that is there but is not a regular file (a directory, a FIFO): say what it is.
    const literal = resolve(cwd, arg);
    if (arg.trim() !== '' && exists(literal)) await readDefinitionText(literal);
    throw e;
  }
  return { path, text: await readDefinitionText(path) };
}
