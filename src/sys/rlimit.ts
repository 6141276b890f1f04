/** Resource limits of another process through prlimit(2): a direct call, no fork/exec. */
import { VmkitError } from '../errors.js';
import { libc } from './libc.js';
import { syscallError, type SysContext } from './errno.js';

/** Resource numbers (include/uapi/asm-generic/resource.h). */
export const RLIMIT = Object.freeze({ MEMLOCK: 8, RTPRIO: 14, NOFILE: 7 } as const);
export type RlimitResource = keyof typeof RLIMIT;

/** A limit in bytes (or count), or `unlimited` (RLIM_INFINITY). */
export type RlimValue = number | 'unlimited';
export interface Rlimit {
  readonly soft: RlimValue;
  readonly hard: RlimValue;
}

const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

function encodeValue(v: RlimValue, what: string): bigint {
  if (v === 'unlimited') return RLIM_INFINITY;
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new VmkitError('InvalidArgument', `Cannot set the rlimit of ${what} to ${String(v)}: expected a non-negative integer or 'unlimited'`);
  }
  return BigInt(v);
}

function decodeValue(v: bigint): RlimValue {
  return v === RLIM_INFINITY || v > BigInt(Number.MAX_SAFE_INTEGER) ? 'unlimited' : Number(v);
}

/**
 * prlimit(pid, resource, next): sets the limits when `next` is given, and returns the limits that were in
 * force before. pid 0 is the calling process.
 */
export function prlimit(pid: number, resource: RlimitResource, next?: Rlimit, ctx?: SysContext): Rlimit {
  const what = ctx?.what ?? (pid === 0 ? 'this process' : `pid ${pid}`);
  let newBuf: Uint8Array | null = null;
  if (next !== undefined) {
    newBuf = new Uint8Array(16);
    const dv = new DataView(newBuf.buffer);
    dv.setBigUint64(0, encodeValue(next.soft, what), true);
    dv.setBigUint64(8, encodeValue(next.hard, what), true);
  }
  const old = new Uint8Array(16);
  const c = libc();
  if (c.prlimit(pid, RLIMIT[resource], newBuf, old) !== 0) {
    const action = next === undefined ? `read RLIMIT_${resource}` : `set RLIMIT_${resource} to ${next.soft}/${next.hard} (soft/hard)`;
    throw syscallError('prlimit', action, what, c.errno());
  }
  const dv = new DataView(old.buffer);
  return { soft: decodeValue(dv.getBigUint64(0, true)), hard: decodeValue(dv.getBigUint64(8, true)) };
}

/**
 * Runs `fn` (synchronously) with this process's `resource` limit set to `limit`, then restores it. For
 * limits that must be in force when a child starts, e.g. RLIMIT_MEMLOCK for QEMU's `-overcommit
 * mem-lock=on` or VFIO, which lock memory before QMP is up: spawn() forks inside `fn`, and nothing else
 * runs in between on the JavaScript thread.
 */
export function withRlimit<T>(resource: RlimitResource, limit: Rlimit, fn: () => T): T {
  const old = prlimit(0, resource, limit);
  try {
    return fn();
  } finally {
    prlimit(0, resource, old);
  }
}
