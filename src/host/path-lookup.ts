import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { VmkitError } from '../errors.js';

/**
 * Finds an executable the way execvp would, with access(2) calls only (no `which` helper process).
 * An absolute path (or one containing '/') is checked as is.
 */
export async function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (name.includes('/')) return (await isExecutable(name)) ? name : undefined;
  // A hit is remembered per PATH and re-checked with one access(2); a miss is always searched again.
  const key = `${env.PATH ?? ''}\0${name}`;
  const known = found.get(key);
  if (known !== undefined && (await isExecutable(known))) return known;
  const hit = await searchPath(name, env);
  if (hit === undefined) found.delete(key);
  else found.set(key, hit);
  return hit;
}

const found = new Map<string, string>();

async function searchPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dirs = (env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter);
  for (const dir of dirs) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export async function requireExecutable(name: string, hint: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const found = await findExecutable(name, env);
  if (found === undefined) {
    throw new VmkitError('HostError', `Cannot find executable '${name}' on PATH: ${hint}`, { details: { name } });
  }
  return found;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
