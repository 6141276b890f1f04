/**
 * What happens when the guest powers off, reboots or crashes (libvirt's on_poweroff / on_reboot / on_crash).
 *
 * | event    | destroy                          | restart                                  | preserve                                        |
 * | poweroff | QEMU exits, domain shut off (default) | a fresh QEMU is started                | QEMU stays, paused (`-action shutdown=pause`) |
 * | reboot   | QEMU exits (`-action reboot=shutdown`) | the guest resets in place (default)   | not supported (as in libvirt's QEMU driver)    |
 * | crash    | QEMU exits, domain shut off (default) | a fresh QEMU is started (rate-limited) | QEMU stays, paused, state `crashed` (`-action panic=pause`) |
 *
 * A power-off vmkit asked for (`shutdown()`) never restarts the domain. "Crash" is a guest panic reported
 * by a pvpanic device, or QEMU itself dying unexpectedly (then nothing can be preserved).
 */
import { VmkitError } from '../errors.js';

export type PolicyAction = 'destroy' | 'restart' | 'preserve';

export interface LifecyclePolicies {
  readonly onPoweroff: PolicyAction;
  readonly onReboot: PolicyAction;
  readonly onCrash: PolicyAction;
}

export const DEFAULT_POLICIES: LifecyclePolicies = Object.freeze({ onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'destroy' });

const ACTIONS: readonly PolicyAction[] = ['destroy', 'restart', 'preserve'];

/** Merges `update` over `base`, checking every value; throws InvalidArgument naming the bad one. */
export function resolvePolicies(update: Partial<LifecyclePolicies> | undefined, base: LifecyclePolicies = DEFAULT_POLICIES): LifecyclePolicies {
  const out = { ...base, ...stripUndefined(update ?? {}) };
  for (const key of ['onPoweroff', 'onReboot', 'onCrash'] as const) {
    if (!ACTIONS.includes(out[key])) {
      throw new VmkitError('InvalidArgument', `Invalid ${key} policy ${JSON.stringify(out[key])}: use destroy, restart or preserve`, {
        details: { policy: key, value: out[key] },
      });
    }
  }
  if (out.onReboot === 'preserve') {
    throw new VmkitError('InvalidArgument', "The 'preserve' policy is not supported for onReboot: use restart (reset in place) or destroy", {
      details: { policy: 'onReboot', value: 'preserve' },
    });
  }
  return Object.freeze(out);
}

/** The QEMU `-action` options a policy set needs (none for the defaults). */
export function policyArgs(p: LifecyclePolicies): string[] {
  const actions: string[] = [];
  if (p.onReboot === 'destroy') actions.push('reboot=shutdown');
  if (p.onPoweroff === 'preserve') actions.push('shutdown=pause');
  if (p.onCrash === 'preserve') actions.push('panic=pause');
  return actions.length === 0 ? [] : ['-action', actions.join(',')];
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
