import type { EventEmitter } from 'node:events';
import type { ExitInfo } from '../process/exit-info.js';
import type { QemuProcessEvents } from '../process/qemu-process.js';
import type { RunDir } from '../process/state-dir.js';
import type { QmpClient } from '../qmp/index.js';

/**
 * A running QEMU as the driver sees it: either a child this process started (QemuProcess) or one a
 * restarted daemon re-adopted (AdoptedQemu). Both emit `console`, `qmpEvent` and `exit`.
 */
export interface VmProcess extends EventEmitter<QemuProcessEvents> {
  readonly pid: number;
  readonly running: boolean;
  readonly exited: Promise<ExitInfo>;
  readonly qmp: QmpClient | undefined;
  readonly runDir: RunDir;
  readonly argv: readonly string[];
  /** Where its VNC server listens, when known (a started QEMU asks at start; a re-adopted one does not know). */
  readonly vnc?: { readonly host: string; readonly port: number } | undefined;
  /** A re-adopted QEMU that was tuned by an earlier process: its cpuset groups are swept when it exits (nothing here can undo them). */
  readonly leftTuning?: boolean;
  powerdown(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once QEMU has exited. */
  destroy(graceMs?: number): Promise<ExitInfo>;
  kill(): Promise<ExitInfo>;
  writeConsole(data: string | Buffer): void;
  /** Stops watching QEMU without stopping it (daemon shutdown). */
  release(): Promise<void>;
}
