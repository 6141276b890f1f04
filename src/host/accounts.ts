import { readFile } from 'node:fs/promises';
import { VmkitError } from '../errors.js';

/** A resolved identity for QEMU: numeric uid, primary gid and supplementary groups. */
export interface Identity {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}

interface PasswdEntry { name: string; uid: number; gid: number }
interface GroupEntry { name: string; gid: number; members: string[] }

export function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) return [];
    return [{ name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]) }];
  });
}

export function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) return [];
    return [{ name: f[0] ?? '', gid: Number(f[2]), members: (f[3] ?? '').split(',').filter((m) => m !== '') }];
  });
}

/**
 * Resolves `user`/`group` (names or numbers) into an identity, keeping the `kvm` group (so QEMU can
 * still open /dev/kvm) and the user's supplementary groups. Pure over the file contents.
 */
export function resolveIdentity(
  user: string | number | undefined,
  group: string | number | undefined,
  files: { passwd: string; group: string },
): Identity | undefined {
  if (user === undefined && group === undefined) return undefined;
  const users = parsePasswd(files.passwd);
  const groups = parseGroup(files.group);
  const pw = user === undefined ? undefined : findUser(users, user);
  const uid = pw?.uid ?? (typeof user === 'number' ? user : process.getuid?.() ?? 0);
  let gid: number;
  if (group !== undefined) {
    const g = typeof group === 'number' ? groups.find((e) => e.gid === group) : groups.find((e) => e.name === group);
    if (g === undefined && typeof group !== 'number') {
      throw new VmkitError('InvalidConfig', `Unknown group '${group}': it is not in /etc/group; use an existing group name or a numeric gid`);
    }
    gid = g?.gid ?? (group as number);
  } else {
    gid = pw?.gid ?? uid;
  }
  const supplementary = new Set<number>([gid]);
  if (pw !== undefined) for (const g of groups) if (g.members.includes(pw.name)) supplementary.add(g.gid);
  const kvm = groups.find((g) => g.name === 'kvm');
  if (kvm !== undefined) supplementary.add(kvm.gid);
  return { uid, gid, groups: [...supplementary].sort((a, b) => a - b) };
}

function findUser(users: PasswdEntry[], user: string | number): PasswdEntry | undefined {
  const found = typeof user === 'number' ? users.find((u) => u.uid === user) : users.find((u) => u.name === user);
  if (found === undefined && typeof user === 'string') {
    throw new VmkitError('InvalidConfig', `Unknown user '${user}': it is not in /etc/passwd; use an existing user name or a numeric uid`);
  }
  return found;
}

export async function readIdentity(user: string | number | undefined, group: string | number | undefined): Promise<Identity | undefined> {
  if (user === undefined && group === undefined) return undefined;
  const [passwd, groupText] = await Promise.all([readFile('/etc/passwd', 'utf8'), readFile('/etc/group', 'utf8')]);
  return resolveIdentity(user, group, { passwd, group: groupText });
}
