/** The one effectful config module: locate and read a definition file, then parse it. */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { VmkitError } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';
import { locateDefinition } from './locate-definition.js';
import { parseDefinition } from './parse-definition.js';

/** Largest definition file read (a definition is a few KiB; this guards against reading a disk image by mistake). */
export const MAX_DEFINITION_BYTES = 4 * 1024 * 1024;

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Locates (see locateDefinition), reads and parses a definition. Throws VmkitError NotFound, HostError
 * (unreadable or too large) or ConfigError.
 */
export async function loadDefinitionFile(arg: string, opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<DomainSpec> {
  const { path, text } = await readDefinitionFile(arg, opts);
  return parseDefinition(text, { file: path, baseDir: dirname(path) });
}

/** Locates and reads a definition without parsing it (for callers that also need the text, for positions). */
export async function readDefinitionFile(arg: string, opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<{ path: string; text: string }> {
  const path = locateDefinition(arg, { env: opts.env ?? process.env, cwd: opts.cwd ?? process.cwd(), exists: isFile });
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_DEFINITION_BYTES) {
      throw new VmkitError('HostError', `Definition ${path} is ${size} bytes, more than the ${MAX_DEFINITION_BYTES} bytes a definition may have; is it the right file?`);
    }
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof VmkitError) throw e;
    throw new VmkitError('HostError', `Cannot read definition ${path}: ${(e as Error).message}`, { cause: e });
  }
  return { path, text };
}
