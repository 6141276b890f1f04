/**
 * Domain-level settings beside the hardware list: descriptive text, lifecycle policies, platform features,
 * the guest clock, CPU feature flags and pflash firmware. Plain read-only types, no I/O. Every field that
 * uses them is optional in DomainSpec and absent when it says only what QEMU/vmkit do anyway, so one VM
 * written in any format resolves to one spec.
 */

/** What happens on a guest power-off, reboot or crash (libvirt's `on_poweroff`/`on_reboot`/`on_crash`). */
export type LifecycleAction = 'destroy' | 'restart' | 'preserve';

export interface LifecycleSpec {
  readonly onPoweroff: LifecycleAction;
  /** Never `preserve` (QEMU cannot keep a rebooting guest paused in a useful state; libvirt refuses it too). */
  readonly onReboot: LifecycleAction;
  readonly onCrash: LifecycleAction;
}

/** Platform switches. Absent from the spec: every default (ACPI on). */
export interface FeaturesSpec {
  /** `false`: the machine has no ACPI (`-machine acpi=off`); the guest cannot be powered off through ACPI. */
  readonly acpi: boolean;
}

export type TickPolicy = 'delay' | 'catchup' | 'discard';

/** The guest's real-time clock and timers. Absent from the spec: RTC in UTC, QEMU's timer defaults. */
export interface ClockSpec {
  /**
   * `utc`: the RTC starts at the host's UTC time; `localtime`: at the host's local time; `variable`: at
   * `basis` plus `adjustment` seconds, computed when QEMU starts.
   */
  readonly offset: 'utc' | 'localtime' | 'variable';
  /** `variable` only: seconds added to the basis (may be negative). */
  readonly adjustment?: number;
  /** `variable` only: what `adjustment` is added to (default utc). */
  readonly basis?: 'utc' | 'localtime';
  /** RTC lost ticks: `catchup` re-injects them (`-rtc driftfix=slew`); `delay` is QEMU's default. */
  readonly rtcTickPolicy?: 'delay' | 'catchup';
  /** PIT lost ticks under KVM (`-global kvm-pit.lost_tick_policy=`); `catchup` is KVM's default. */
  readonly pitTickPolicy?: TickPolicy;
  /** `false`: no HPET (`-machine hpet=off`). */
  readonly hpet?: boolean;
  /** `false`: hide kvmclock from the guest (`-cpu <model>,kvmclock=off`). */
  readonly kvmclock?: boolean;
}

/** One CPU feature flag switched on or off on top of the CPU model (`-cpu <model>,<name>=on|off`). */
export interface CpuFeatureSpec {
  /** QEMU's feature name, e.g. `vmx`, `avx2`, `sse4.2`, `kvm_pv_eoi`. */
  readonly name: string;
  readonly enabled: boolean;
}

/**
 * UEFI-style firmware in emulated flash: the code image (`pflash0`, normally read-only) and the variable
 * store (`pflash1`). A missing variable store is copied from `varsTemplate` when the domain starts.
 */
export interface PflashSpec {
  readonly code: string;
  readonly readonly: boolean;
  readonly vars?: string;
  readonly varsTemplate?: string;
}

export const DEFAULT_LIFECYCLE: LifecycleSpec = Object.freeze({ onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'destroy' });
