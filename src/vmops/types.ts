/**
 * Plain data of the operations that change a running VM (src/vmops): hot-plugged devices, saved states,
 * progress of long jobs, snapshots. No I/O.
 */
import type { DiskSpec, DomainSpec, NicSpec } from '../model/domain.js';

/** What a run has on top of its definition: devices hot-plugged or unplugged, vCPUs set. */
export interface HotState {
  /** Disks hot-plugged into the run, each on a reserved root port (its `address`). */
  readonly disks: readonly DiskSpec[];
  readonly nics: readonly NicSpec[];
  /** Ids of defined disks and NICs unplugged from the run. */
  readonly removed: readonly string[];
  /** vCPUs online in QEMU when changed with setvcpus. */
  readonly vcpus?: number;
  /** virtio-mem: the requested size when changed with setmem (MiB). */
  readonly memRequestedMiB?: number;
}

export const NO_HOT: HotState = Object.freeze({ disks: [], nics: [], removed: [] });

/** The running QEMU as vmops sees it: the spec it runs (definition + reserved ports + hot devices). */
export interface LiveRun {
  /** The definition the run started from, with the reserved root ports (disk paths follow external snapshots). */
  base: DomainSpec;
  /** What runs now: `base` with `hot` applied. */
  spec: DomainSpec;
  hot: HotState;
  /** Controller indexes of the PCIe root ports reserved for hotplug (q35). */
  readonly ports: readonly number[];
  /** Reserved port index -> the device id on it. */
  readonly used: Map<number, string>;
}

/** A run a vmops operation ends on purpose. */
export interface RunEnd {
  readonly reason: 'saved' | 'migrated';
  readonly message: string;
}

/** A saved state (`vmkit save`): the file QEMU's migration stream went into, restored by the next start. */
export interface SavedState {
  readonly file: string;
  readonly at: string;
  readonly bytes: number;
  /** The guest was paused (by the user) when saved: it is restored paused. */
  readonly paused: boolean;
  readonly hot: HotState;
}

/** How far a save, restore or migration is (from QMP query-migrate). */
export interface JobProgress {
  readonly op: 'save' | 'restore' | 'migrate' | 'incoming';
  /** QEMU's migration status: setup, active, postcopy-active, completed, failed, cancelled... */
  readonly status: string;
  readonly transferredBytes?: number;
  readonly remainingBytes?: number;
  readonly totalBytes?: number;
  /** Pre-copy passes over guest RAM (dirty-sync-count). */
  readonly passes?: number;
  /** auto-converge: how much the vCPUs are throttled (%). */
  readonly throttlePercent?: number;
  /** When done: the guest's downtime as QEMU measured it. */
  readonly downtimeMs?: number;
  readonly totalTimeMs?: number;
}
