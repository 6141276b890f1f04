/**
 * Running a few synchronous file operations with the file-system identity of another account (the user QEMU
 * runs as), so that what the daemon opens or creates for a domain is exactly what that account may open or
 * create: no file of root's can be read through a definition, no file can be made where that account could
 * not make it. Linux's fsuid, fsgid and groups are per thread; the calling thread takes them on for the
 * synchronous `fn` only (no other JavaScript runs meanwhile; libuv's worker threads keep theirs) and gets
 * its own back before this returns, even when `fn` throws. A uid other than 0 also drops the file
 * capabilities root has (CAP_DAC_OVERRIDE...), as the kernel does for fsuid changes. Linux only.
 */
import { VmkitError } from '../errors.js';
import { libc } from './libc.js';

export interface FsIdentity {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}

const MAX_GROUPS = 65536;

function threadGroups(): Uint32Array {
  const c = libc();
  const n = c.getgroupsThread(0, new Uint32Array(0));
  if (n < 0) throw new VmkitError('HostError', `getgroups failed: errno ${c.errno()}`);
  const list = new Uint32Array(Math.max(n, 1));
  const got = c.getgroupsThread(n, list);
  if (got < 0) throw new VmkitError('HostError', `getgroups failed: errno ${c.errno()}`);
  return list.slice(0, got);
}

function become(uid: number, gid: number, groups: Uint32Array): void {
  const c = libc();
  // Groups and gid first: once the fsuid is not 0 the thread may no longer change them.
  if (c.setgroupsThread(groups.length, groups) !== 0) throw new VmkitError('HostError', `Cannot take on groups ${[...groups].join(',')}: setgroups failed, errno ${c.errno()} (needs root)`);
  c.setfsgid(gid);
  c.setfsuid(uid);
  if (c.setfsgid(-1) !== gid || c.setfsuid(-1) !== uid) {
    throw new VmkitError('HostError', `Cannot take on the file-system identity ${uid}:${gid} (needs root or CAP_SETUID/CAP_SETGID)`);
  }
}

/**
 * Runs `fn` (synchronous) with the file-system identity `id`; `undefined` or our own identity runs it as is.
 * Throws HostError when the identity cannot be taken on (not root), and whatever `fn` throws.
 */
export function withFsIdentity<T>(id: FsIdentity | undefined, fn: () => T): T {
  const uid = process.geteuid?.() ?? 0;
  if (id === undefined || (id.uid === uid && id.gid === (process.getegid?.() ?? 0))) return fn();
  if (id.groups.length > MAX_GROUPS) throw new VmkitError('InvalidArgument', `Too many groups (${id.groups.length})`);
  const c = libc();
  const saved = { uid: c.setfsuid(-1), gid: c.setfsgid(-1), groups: threadGroups() };
  try {
    become(id.uid, id.gid, Uint32Array.from(id.groups));
    return fn();
  } finally {
    // Back to our own: uid first (0 can change gid and groups again).
    c.setfsuid(saved.uid);
    c.setfsgid(saved.gid);
    c.setgroupsThread(saved.groups.length, saved.groups);
  }
}
