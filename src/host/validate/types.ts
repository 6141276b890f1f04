/** Host validation: one result per check, each read from files under injectable roots (tests use fixture trees). */
import { join } from 'node:path';

export type CheckStatus = 'PASS' | 'WARN' | 'FAIL';

export interface CheckResult {
  /** Stable id: `kvm`, `cgroup-cpuset`, `qemu:/usr/bin/qemu-system-x86_64`, ... */
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found, in a few words. */
  readonly detail: string;
  /** One line telling how to fix a WARN or FAIL. */
  readonly remedy?: string;
}

/** Where the host's trees are. Tests point them at fixture directories. */
export interface HostRoots {
  readonly proc: string;
  readonly sys: string;
  readonly dev: string;
  readonly etc: string;
  /** Prefix for other absolute paths found in the host's files (mount points outside /sys and /dev). */
  readonly root: string;
}

export const REAL_ROOTS: HostRoots = Object.freeze({ proc: '/proc', sys: '/sys', dev: '/dev', etc: '/etc', root: '/' });

/** An absolute host path (e.g. a mount point from mountinfo) under the injected roots. */
export function hostPath(roots: HostRoots, abs: string): string {
  for (const top of ['proc', 'sys', 'dev', 'etc'] as const) {
    if (abs === `/${top}` || abs.startsWith(`/${top}/`)) return join(roots[top], abs.slice(top.length + 1));
  }
  return join(roots.root, abs);
}

export function result(id: string, title: string, status: CheckStatus, detail: string, remedy?: string): CheckResult {
  return { id, title, status, detail, ...(remedy === undefined || status === 'PASS' ? {} : { remedy }) };
}
