/**
 * What this machine's KVM really is, read independently of vmkit's own code, so that tests assert against
 * the machine they run on: these machines come with and without /dev/kvm.
 */
import { accessSync, closeSync, constants, openSync, readFileSync, statSync } from 'node:fs';

export type DevKvm = 'usable' | 'missing' | 'denied' | 'not-a-device';

/** /dev/kvm as this process sees it: missing, not a character device, not read-write for us, or usable. */
export function devKvm(path = '/dev/kvm'): DevKvm {
  let isChar: boolean;
  try {
    isChar = statSync(path).isCharacterDevice();
  } catch {
    return 'missing';
  }
  if (!isChar) return 'not-a-device';
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return 'usable';
  } catch {
    return 'denied';
  }
}

/** True when /dev/kvm really opens read-write (what QEMU does before KVM_CREATE_VM). */
export function kvmOpens(path = '/dev/kvm'): boolean {
  try {
    closeSync(openSync(path, constants.O_RDWR));
    return true;
  } catch {
    return false;
  }
}

/** True when /proc/cpuinfo shows VT-x or AMD-V. */
export function cpuHasVirt(): boolean {
  const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  return /\b(vmx|svm)\b/.test(flags);
}

/** The status `vmkit host validate` must give its `kvm` check on this machine. */
export function expectedKvmCheck(): 'PASS' | 'WARN' | 'FAIL' {
  const state = devKvm();
  if (state === 'usable') return 'PASS';
  // Missing without VT-x/AMD-V: nothing to load, TCG only (a warning); every other case is a failure.
  return state === 'missing' && !cpuHasVirt() ? 'WARN' : 'FAIL';
}
