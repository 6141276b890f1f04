/**
 * Host paths in vmops requests from a daemon's client that is not root (issue 14's model: access to the
 * daemon must never mean root on the host). The daemon runs as root and QEMU may too, so a path a client
 * names is opened or created with more rights than the client has. Such a client may name:
 * - files (a disk to attach, an external snapshot's overlay): only inside the domain's own directory
 *   `<root>/vm/<name>` (symlinks resolved; the overlay's directory must be there), which only root fills;
 * - a unix socket (a migration's destination daemon): only one the client could connect to itself
 *   (write permission on the socket and search permission on each directory above it, for its uid and
 *   groups): the daemon does nothing for it that it could not do on its own.
 * Root clients (and daemons that allow raw options) are not limited. Refusals are PermissionDenied (HTTP
 * 403) naming the field and the rule.
 */
import { constants } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { VmkitError } from '../errors.js';
import { domainDir } from '../driver/privileged-options.js';

/** Who asks: SO_PEERCRED of the client. */
export interface ClientCred {
  readonly uid: number;
  readonly gid?: number;
  readonly pid?: number;
}

const ROOT_RULE = 'needs a client with uid 0';

function inside(path: string, dir: string): boolean {
  const r = relative(dir, path);
  return r !== '' && !r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r);
}

function denied(field: string, message: string, path: string, uid: number): VmkitError {
  return new VmkitError('PermissionDenied', `${field}: ${message}: ${ROOT_RULE} (client uid ${uid}, path ${JSON.stringify(path)})`, { details: { field, path, uid, rule: message } });
}

/**
 * A file path a non-root client names: it (or, for a file to create, its directory) must resolve inside
 * the domain's directory. Returns the path as given.
 */
export async function checkClientFile(root: string, domain: string, field: string, path: string, cred: ClientCred | undefined, opts: { create?: boolean } = {}): Promise<void> {
  if (cred === undefined || cred.uid === 0) return;
  const dir = domainDir(root, domain);
  const rule = `a file outside the domain's directory ${dir}`;
  if (!isAbsolute(path)) throw denied(field, rule, path, cred.uid);
  const realDir = await realpath(dir).catch(() => undefined);
  // What the path really names: for a file to create, its (existing) directory plus the name.
  const target = opts.create === true ? await realpath(dirname(path)).then((d) => `${d}${sep}${path.slice(dirname(path).length + 1)}`, () => undefined) : await realpath(path).catch(() => undefined);
  if (realDir === undefined || target === undefined || !inside(target, realDir)) throw denied(field, rule, path, cred.uid);
}

async function groupsOf(cred: ClientCred): Promise<Set<number>> {
  const out = new Set<number>(cred.gid === undefined ? [] : [cred.gid]);
  if (cred.pid === undefined) return out;
  const status = await readFile(`/proc/${cred.pid}/status`, 'utf8').catch(() => '');
  for (const g of /^Groups:\s*(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? []) if (g !== '') out.add(Number(g));
  return out;
}

function permits(st: { mode: number; uid: number; gid: number }, uid: number, groups: Set<number>, bit: 'w' | 'x'): boolean {
  const [u, g, o] = bit === 'w' ? [constants.S_IWUSR, constants.S_IWGRP, constants.S_IWOTH] : [constants.S_IXUSR, constants.S_IXGRP, constants.S_IXOTH];
  if (st.uid === uid) return (st.mode & u) !== 0;
  if (groups.has(st.gid)) return (st.mode & g) !== 0;
  return (st.mode & o) !== 0;
}

/** A unix socket a non-root client names: the client itself must be able to connect to it. */
export async function checkClientSocket(field: string, path: string, cred: ClientCred | undefined): Promise<void> {
  if (cred === undefined || cred.uid === 0) return;
  const rule = 'a socket this client could not connect to itself';
  if (!isAbsolute(path)) throw denied(field, rule, path, cred.uid);
  const groups = await groupsOf(cred);
  const real = await realpath(path).catch(() => undefined);
  if (real === undefined) throw denied(field, rule, path, cred.uid);
  // The path as given and as resolved: every directory on both must let the client through.
  for (const p of new Set([path, real])) {
    for (let d = dirname(p); ; d = dirname(d)) {
      const st = await stat(d).catch(() => undefined);
      if (st === undefined || !permits(st, cred.uid, groups, 'x')) throw denied(field, rule, path, cred.uid);
      if (d === dirname(d)) break;
    }
  }
  const st = await stat(real).catch(() => undefined);
  if (st === undefined || !st.isSocket() || !permits(st, cred.uid, groups, 'w')) throw denied(field, rule, path, cred.uid);
}
