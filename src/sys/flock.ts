/**
 * flock(2) through koffi (Node has no file locks): an advisory lock on an open file that the kernel drops
 * when the last descriptor of that open file is closed, which includes the process dying in any way.
 * Non-blocking only, so it never waits on the event loop. Linux only.
 */
import { createRequire } from 'node:module';
import { VmkitError } from '../errors.js';
import { errnoName } from './errno.js';

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const EWOULDBLOCK = 11;

type Flock = (fd: number, op: number) => number;
let bound: { flock: Flock; errno: () => number } | undefined;

function bind(): { flock: Flock; errno: () => number } {
  if (bound !== undefined) return bound;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    bound = { flock: lib.func('int flock(int fd, int operation)') as Flock, errno: () => koffi.errno() };
    return bound;
  } catch (e) {
    throw new VmkitError('HostError', 'Cannot bind flock(2) through koffi to lock the root: reinstall dependencies (npm ci)', { cause: e });
  }
}

/**
 * Takes an exclusive lock on the open file `fd` without waiting: true when taken, false when another open
 * file holds it. Other failures throw HostError naming `what` and the errno.
 */
export function tryLockExclusive(fd: number, what: string): boolean {
  const { flock, errno } = bind();
  if (flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
  const e = errno();
  if (e === EWOULDBLOCK) return false;
  throw new VmkitError('HostError', `Cannot lock ${what}: flock() failed with ${errnoName(e)}`, { details: { syscall: 'flock', errno: errnoName(e), target: what } });
}

/** Drops the lock on `fd` (closing the file drops it too). */
export function unlock(fd: number): void {
  bind().flock(fd, LOCK_UN);
}
