/**
 * The libc functions vmkit calls directly, bound once through koffi (a Node-API FFI whose prebuilt
 * binaries ship inside its npm packages). Loaded lazily on first use, so importing vmkit costs nothing
 * for callers that never tune a VM. Linux only.
 *
 * Pointer arguments are declared as byte buffers: callers encode the C structs themselves (little-endian
 * x86_64/aarch64 layouts), which keeps the bindings free of koffi struct types.
 */
import { createRequire } from 'node:module';
import { VmkitError } from '../errors.js';

type KoffiModule = typeof import('koffi');
type Fn<A extends unknown[]> = (...args: A) => number;

export interface Libc {
  /** int sched_setaffinity(pid_t tid, size_t size, const cpu_set_t *mask) */
  readonly sched_setaffinity: Fn<[number, number, Uint8Array]>;
  /** int sched_getaffinity(pid_t tid, size_t size, cpu_set_t *mask) */
  readonly sched_getaffinity: Fn<[number, number, Uint8Array]>;
  /** int sched_setscheduler(pid_t tid, int policy, const struct sched_param *param) */
  readonly sched_setscheduler: Fn<[number, number, Uint8Array]>;
  /** int sched_getscheduler(pid_t tid) */
  readonly sched_getscheduler: Fn<[number]>;
  /** int sched_getparam(pid_t tid, struct sched_param *param) */
  readonly sched_getparam: Fn<[number, Uint8Array]>;
  /** int prlimit(pid_t pid, int resource, const struct rlimit *new, struct rlimit *old); buffers may be null */
  readonly prlimit: Fn<[number, number, Uint8Array | null, Uint8Array | null]>;
  /** int setfsuid(uid_t uid): the calling thread's file-system uid; returns the previous one (-1: read only). */
  readonly setfsuid: Fn<[number]>;
  /** int setfsgid(gid_t gid): as setfsuid, for the file-system gid. */
  readonly setfsgid: Fn<[number]>;
  /** long syscall(SYS_setgroups, size, const gid_t *list): the calling thread's groups only (glibc's setgroups changes every thread). */
  readonly setgroupsThread: Fn<[number, Uint32Array]>;
  /** long syscall(SYS_getgroups, size, gid_t *list): the calling thread's groups. */
  readonly getgroupsThread: Fn<[number, Uint32Array]>;
  /** The calling thread's errno right after a call. */
  errno(): number;
  /** errno number -> name (`EPERM`), from koffi's table of the platform's codes. */
  readonly errnoNames: ReadonlyMap<number, string>;
}

let cached: Libc | undefined;

/** Syscall numbers that glibc has no per-thread wrapper for. */
const SYS = process.arch === 'arm64' ? { setgroups: 159, getgroups: 158 } : { setgroups: 116, getgroups: 115 };

/** Binds the libc functions on first call; throws HostError when FFI is unavailable. */
export function libc(): Libc {
  if (cached !== undefined) return cached;
  if (process.platform !== 'linux') {
    throw new VmkitError('HostError', `Cannot tune threads on ${process.platform}: vmkit's syscall layer is Linux only`);
  }
  let koffi: KoffiModule;
  try {
    koffi = createRequire(import.meta.url)('koffi') as KoffiModule;
  } catch (e) {
    throw new VmkitError('HostError', 'Cannot load the koffi FFI module: reinstall vmkit\'s dependencies (npm ci)', {
      cause: e,
    });
  }
  let lib: ReturnType<KoffiModule['load']> | undefined;
  let lastError: unknown;
  for (const name of ['libc.so.6', 'libc.so']) {
    try {
      lib = koffi.load(name);
      break;
    } catch (e) {
      lastError = e;
    }
  }
  if (lib === undefined) {
    throw new VmkitError('HostError', 'Cannot load the C library (libc.so.6) for direct syscalls', { cause: lastError });
  }
  const names = new Map<number, string>();
  for (const [name, num] of Object.entries(koffi.os.errno)) {
    // Several names may share a number (EAGAIN/EWOULDBLOCK): keep the first, the canonical one.
    if (!names.has(num)) names.set(num, name);
  }
  const l = lib;
  const rawSyscall = l.func('long syscall(long nr, long size, _Inout_ uint32_t *list)') as (nr: number, size: number, list: Uint32Array) => number;
  cached = Object.freeze({
    sched_setaffinity: l.func('int sched_setaffinity(int tid, size_t size, const uint8_t *mask)') as Fn<
      [number, number, Uint8Array]
    >,
    sched_getaffinity: l.func('int sched_getaffinity(int tid, size_t size, _Out_ uint8_t *mask)') as Fn<
      [number, number, Uint8Array]
    >,
    sched_setscheduler: l.func('int sched_setscheduler(int tid, int policy, const uint8_t *param)') as Fn<
      [number, number, Uint8Array]
    >,
    sched_getscheduler: l.func('int sched_getscheduler(int tid)') as Fn<[number]>,
    sched_getparam: l.func('int sched_getparam(int tid, _Out_ uint8_t *param)') as Fn<[number, Uint8Array]>,
    prlimit: l.func('int prlimit(int pid, int resource, const uint8_t *newlim, _Out_ uint8_t *oldlim)') as Fn<
      [number, number, Uint8Array | null, Uint8Array | null]
    >,
    setfsuid: l.func('int setfsuid(int uid)') as Fn<[number]>,
    setfsgid: l.func('int setfsgid(int gid)') as Fn<[number]>,
    setgroupsThread: ((size: number, list: Uint32Array) => rawSyscall(SYS.setgroups, size, list)) as Fn<[number, Uint32Array]>,
    getgroupsThread: ((size: number, list: Uint32Array) => rawSyscall(SYS.getgroups, size, list)) as Fn<[number, Uint32Array]>,
    errno: () => koffi.errno(),
    errnoNames: names,
  });
  return cached;
}
