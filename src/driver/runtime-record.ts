/**
 * runtime.json in a daemon-started QEMU's run directory: what a restarted daemon needs to re-adopt it.
 * The pid with the process start time names the process immune to PID reuse.
 */
import { readFile } from 'node:fs/promises';
import type { RunDir } from '../process/state-dir.js';
import { readProcStat } from '../util/proc.js';
import { writeFileAtomic } from './atomic-file.js';

export interface RuntimeRecord {
  readonly version: 1;
  readonly name: string;
  readonly uuid: string;
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot). */
  readonly startTime: number;
  /** Wall-clock ms when QEMU was started. */
  readonly startedAt: number;
  readonly runDir: string;
  /** The QMP monitor QEMU serves for re-adoption. */
  readonly qmpSocket: string;
  /** The serial console socket QEMU serves, when the domain has a console. */
  readonly consoleSocket?: string;
  /** Whether the domain was started with tuning (a restarted daemon sweeps its cgroups after it ends). */
  readonly tuned: boolean;
}

export async function writeRuntimeRecord(runDir: RunDir, record: RuntimeRecord, noSync = false): Promise<void> {
  await writeFileAtomic(runDir.runtimeFile, `${JSON.stringify(record)}\n`, { noSync });
}

/** The record in `runDir`, or undefined when there is none or it is not one (a start that never finished). */
export async function readRuntimeRecord(runDir: RunDir): Promise<RuntimeRecord | undefined> {
  let raw: Partial<RuntimeRecord>;
  try {
    raw = JSON.parse(await readFile(runDir.runtimeFile, 'utf8')) as Partial<RuntimeRecord>;
  } catch {
    return undefined;
  }
  if (raw.version !== 1 || typeof raw.pid !== 'number' || typeof raw.startTime !== 'number' || typeof raw.name !== 'string' || typeof raw.qmpSocket !== 'string') {
    return undefined;
  }
  return raw as RuntimeRecord;
}

/** True while the process a record names still runs: same pid and the same start time (not a reused pid), not a zombie. */
export async function recordedAlive(record: Pick<RuntimeRecord, 'pid' | 'startTime'>): Promise<boolean> {
  const st = await readProcStat(record.pid);
  return st !== undefined && st.startTime === record.startTime && st.state !== 'Z' && st.state !== 'X';
}
