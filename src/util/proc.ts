import { readFile } from 'node:fs/promises';

/**
 * The start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined when
 * the process does not exist. Together with the pid it names a process immune to PID reuse.
 */
export async function processStartTime(pid: number): Promise<number | undefined> {
  const stat = await readProcStat(pid);
  return stat?.startTime;
}

export interface ProcStat {
  readonly state: string;
  readonly ppid: number;
  readonly startTime: number;
}

export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: fields start after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0] ?? '?';
  const ppid = Number(rest[1]);
  const startTime = Number(rest[19]);
  return { state, ppid, startTime };
}

/** True when the process exists and is not a zombie. */
export async function processRunning(pid: number): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}
