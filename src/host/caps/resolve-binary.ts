/**
 * Resolves a binary name the way execvp does (first executable match in PATH order), checking every PATH
 * directory at once: a warm capability look-up by name then costs one round of access(2) calls, not one per
 * directory. A name containing `/` is checked as is and made absolute.
 */
import { access, constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function executable(path: string): Promise<boolean> {
  return new Promise((done) => access(path, constants.X_OK, (err) => done(err === null)));
}

/** The absolute path `name` runs, or undefined when there is none. */
export async function resolveBinary(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (name === '') return undefined;
  if (name.includes('/')) return (await executable(name)) ? resolve(name) : undefined;
  const dirs = [...new Set((env.PATH ?? DEFAULT_PATH).split(delimiter).filter((d) => d !== '' && isAbsolute(d)))];
  const candidates = dirs.map((d) => join(d, name));
  const ok = await Promise.all(candidates.map(executable));
  const i = ok.indexOf(true);
  return i < 0 ? undefined : candidates[i];
}
