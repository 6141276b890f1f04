/** Turning a failed syscall into a VmkitError that names the call, the target and the errno. */
import { VmkitError } from '../errors.js';
import { libc } from './libc.js';

/** Human descriptions of the errnos these syscalls return; the rest show their name only. */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  EPERM: 'operation not permitted (needs root or CAP_SYS_NICE / CAP_SYS_RESOURCE)',
  ESRCH: 'no such thread or process (it has exited)',
  EINVAL: 'invalid argument (CPU offline, outside the cgroup cpuset, or a bad policy/priority)',
  EFAULT: 'bad address',
  EAGAIN: 'resource temporarily unavailable',
  EBUSY: 'device or resource busy',
  EACCES: 'permission denied',
  ENOSPC: 'no space left (cpuset has no CPUs or memory nodes)',
  ENOENT: 'no such file or directory',
};

export function errnoName(errno: number): string {
  return libc().errnoNames.get(errno) ?? `errno ${errno}`;
}

/** Options every syscall wrapper takes to word its error. */
export interface SysContext {
  /** The target as the user knows it, e.g. `vCPU 0 (tid 1234)`; default `tid N` / `pid N`. */
  readonly what?: string;
}

/**
 * A HostError for syscall `call` on `what`, saying what was attempted (`action`) and the errno name.
 * details: { syscall, errno (name), errnoNumber, target }.
 */
export function syscallError(call: string, action: string, what: string, errno: number): VmkitError {
  const name = errnoName(errno);
  const desc = DESCRIPTIONS[name];
  return new VmkitError('HostError', `Cannot ${action} of ${what}: ${call}() failed with ${name}${desc === undefined ? '' : ` (${desc})`}`, {
    details: { syscall: call, errno: name, errnoNumber: errno, target: what },
  });
}

/** The errno name of a VmkitError from this layer (or a node fs error code), else undefined. */
export function errnoOf(e: unknown): string | undefined {
  if (e instanceof VmkitError && typeof e.details['errno'] === 'string') return e.details['errno'];
  if (typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    return (e as { code: string }).code;
  }
  return undefined;
}
