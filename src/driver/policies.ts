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
import type { DomainSpec, LifecycleAction, LifecycleSpec } from '../model/domain.js';

export type PolicyAction = LifecycleAction;

/** The same shape as the definition's `lifecycle` (DomainSpec), which gives a domain its default policies. */
export type LifecyclePolicies = LifecycleSpec;

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

/**
 * The policies a (re)define starts from, before the caller's explicit `DefineOptions.policies`: the
 * definition's own `lifecycle` when it has one (libvirt's on_poweroff/on_reboot/on_crash, native
 * `lifecycle:`), else what the domain had (`previous`), else the defaults.
 */
export function definedPolicies(spec: DomainSpec, previous: LifecyclePolicies | undefined): LifecyclePolicies {
  return spec.lifecycle ?? previous ?? DEFAULT_POLICIES;
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

/**
 * `vmkit run` is one-shot: the run ends when the VM stops. What it can honour, it does (a reboot that
 * destroys, a power-off or crash that preserves QEMU paused until Ctrl-C); `restart` after a power-off or
 * crash would outlive the run, so those become `destroy` for the run, each with a note saying so.
 */
export function oneShotPolicies(spec: DomainSpec): { readonly override: Partial<LifecyclePolicies>; readonly notes: readonly string[] } {
  const l = spec.lifecycle;
  const override: { onPoweroff?: PolicyAction; onCrash?: PolicyAction } = {};
  const notes: string[] = [];
  for (const [key, name] of [['onPoweroff', 'on_poweroff'], ['onCrash', 'on_crash']] as const) {
    if (l?.[key] !== 'restart') continue;
    override[key] = 'destroy';
    notes.push(`${name} restart does not apply to 'vmkit run', which ends when the VM stops (define the domain to have it restarted)`);
  }
  return { override, notes };
}
