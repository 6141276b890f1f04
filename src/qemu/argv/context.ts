/** What the argv builder needs besides the DomainSpec: where the runtime files live, and the resolved accelerator. */

/** Files of one running domain that appear on QEMU's command line (named by the caller's instance directory). */
export interface RuntimePaths {
  /** vmkit listens here; QEMU connects its QMP monitor to it. */
  readonly qmpSocket: string;
  /** vmkit listens here; QEMU connects the guest's serial port to it (serial mode `console`). */
  readonly consoleSocket: string;
  readonly pidFile: string;
}

export interface ArgvContext {
  readonly paths: RuntimePaths;
  /** Already resolved from `auto` by the caller (host capabilities). */
  readonly accel: 'kvm' | 'tcg';
  /**
   * The host's TSC frequency in kHz, when known. Under TCG a guest's TSC runs at the host's rate; a Linux
   * guest on microvm has no kvmclock, HPET or PM timer and cannot calibrate against the PIT (no port 0x61),
   * so it hangs at timer setup unless told the rate: with this set, a microvm + TCG direct kernel boot gets
   * `tsc_early_khz=<n>` appended to its command line (unless the command line already sets it).
   */
  readonly hostTscKHz?: number;
  /**
   * The host bridge of each libvirt-network NIC, by NIC id (`net0` -> `virbr0`), looked up when the domain
   * starts (process/argv-context.ts); a network NIC without one here cannot be written.
   */
  readonly networkBridges?: ReadonlyMap<string, string>;
  /** When QEMU starts, for a `clock.offset: variable` RTC base (clock.ts); default: the current time. */
  readonly now?: Date;
}

/** Ids vmkit gives its own QEMU objects; user `qemuArgs` must not reuse them. */
export const QMP_CHARDEV_ID = 'vmkit-qmp';
export const CONSOLE_CHARDEV_ID = 'vmkit-console';
