import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Accel } from '../model/domain.js';

/** True when /dev/kvm exists and the current user may open it read-write. */
export async function kvmUsable(devKvm = '/dev/kvm'): Promise<boolean> {
  try {
    await access(devKvm, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves `auto` to `kvm` when /dev/kvm is usable, else `tcg`. */
export async function resolveAccel(accel: Accel, devKvm?: string): Promise<'kvm' | 'tcg'> {
  if (accel !== 'auto') return accel;
  return (await kvmUsable(devKvm)) ? 'kvm' : 'tcg';
}
