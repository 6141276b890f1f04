/**
 * Who is on the other end of a unix socket: SO_PEERCRED through getsockopt(2), called with koffi (Node has
 * no API for it), and the daemon's access rule. System mode (daemon runs as root): root and members of the
 * `vmkit` group. Session mode: only the user the daemon runs as.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { VmkitError } from '../errors.js';

export interface PeerCred {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

type Getsockopt = (fd: number, level: number, name: number, out: Uint8Array, len: number[]) => number;
let getsockopt: Getsockopt | undefined;

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

function bind(): Getsockopt {
  if (getsockopt !== undefined) return getsockopt;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    getsockopt = lib.func('int getsockopt(int fd, int level, int optname, _Out_ uint8_t *optval, _Inout_ uint32_t *optlen)') as Getsockopt;
    return getsockopt;
  } catch (e) {
    throw new VmkitError('HostError', 'Cannot bind getsockopt(2) through koffi to read peer credentials: reinstall dependencies (npm ci)', { cause: e });
  }
}

/** The peer credentials of an accepted unix socket; undefined when they cannot be read. */
export function peerCred(socket: Socket): PeerCred | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  const buf = new Uint8Array(12);
  const len = [12];
  if (bind()(fd, SOL_SOCKET, SO_PEERCRED, buf, len) !== 0 || len[0] !== 12) return undefined;
  const view = new DataView(buf.buffer);
  return { pid: view.getInt32(0, true), uid: view.getUint32(4, true), gid: view.getUint32(8, true) };
}

export interface AccessPolicy {
  /** Uids always allowed. */
  readonly uids: readonly number[];
  /** Groups whose members (primary or supplementary) are allowed. */
  readonly gids: readonly number[];
  /** Human description for refusals ("root and group vmkit"). */
  readonly describe: string;
}

/** The default rule for a daemon running as `uid` (`vmkitGid`: the gid of group `vmkit`, if it exists). */
export function defaultAccessPolicy(uid: number, vmkitGid: number | undefined): AccessPolicy {
  if (uid === 0) {
    return { uids: [0], gids: vmkitGid === undefined ? [] : [vmkitGid], describe: vmkitGid === undefined ? 'root only (no vmkit group exists)' : 'root and members of group vmkit' };
  }
  return { uids: [uid], gids: [], describe: `only uid ${uid} (session mode)` };
}

/** Whether `cred` may use the daemon. Reads the peer's supplementary groups from /proc only when needed. */
export async function allowed(cred: PeerCred | undefined, policy: AccessPolicy): Promise<boolean> {
  if (cred === undefined) return false;
  if (policy.uids.includes(cred.uid)) return true;
  if (policy.gids.length === 0) return false;
  if (policy.gids.includes(cred.gid)) return true;
  const status = await readFile(`/proc/${cred.pid}/status`, 'utf8').catch(() => '');
  const groups = /^Groups:\s*(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/).filter((g) => g !== '').map(Number) ?? [];
  return groups.some((g) => policy.gids.includes(g));
}

/**
 * The client as the daemon's privilege rules see it: undefined when it runs as the daemon's own account (root,
 * or the user of a session daemon: it could do all of it without the daemon), else its uid (-1 when the
 * credentials cannot be read: never taken for root).
 */
export function restrictedCaller(socket: Socket): { readonly uid: number } | undefined {
  const uid = peerCred(socket)?.uid ?? -1;
  return uid === (process.geteuid?.() ?? 0) ? undefined : { uid };
}
