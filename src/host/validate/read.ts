/** Small file helpers for host checks: every one is a single read or syscall and never throws. */
import { access, constants, readdir, readFile, stat } from 'node:fs/promises';

export async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

export async function listDir(path: string): Promise<string[] | undefined> {
  try {
    return await readdir(path);
  } catch {
    return undefined;
  }
}

export type NodeKind = 'missing' | 'char' | 'dir' | 'file' | 'other';

export async function nodeKind(path: string): Promise<NodeKind> {
  try {
    const s = await stat(path);
    if (s.isCharacterDevice()) return 'char';
    if (s.isDirectory()) return 'dir';
    if (s.isFile()) return 'file';
    return 'other';
  } catch {
    return 'missing';
  }
}

/** access(2) for read and write (real uid, as QEMU started by this user would open it). */
export async function readWrite(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Owner group id of a path, or undefined. */
export async function groupOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).gid;
  } catch {
    return undefined;
  }
}

/** The group name for a gid from an /etc/group text. */
export function groupName(etcGroup: string | undefined, gid: number): string | undefined {
  for (const line of (etcGroup ?? '').split('\n')) {
    const [name, , id] = line.split(':');
    if (name !== undefined && id !== undefined && Number(id) === gid) return name;
  }
  return undefined;
}

/** `123456 kB` style sizes in bytes, `unlimited` as Infinity. */
export function formatBytes(n: number): string {
  if (n === Infinity) return 'unlimited';
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    u++;
  }
  return `${v} ${units[u] as string}`;
}
