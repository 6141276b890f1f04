/**
 * Who owns a VM cgroup: its name records the QEMU pid and that process's start time
 * (`<vm>@<pid>-<start>`), so a group outlives neither its process nor a recycled pid.
 */
import { readFile } from 'node:fs/promises';

export interface GroupOwner {
  readonly vm: string;
  readonly pid: number;
  /** Process start time in clock ticks since boot, from /proc/<pid>/stat. */
  readonly start: string;
}

export function groupName(o: GroupOwner): string {
  return `${o.vm}@${o.pid}-${o.start}`;
}

export function parseGroupName(name: string): GroupOwner | undefined {
  const m = /^(.+)@(\d+)-(\d+)$/.exec(name);
  return m === null ? undefined : { vm: m[1]!, pid: Number(m[2]), start: m[3]! };
}

/** Start time of `pid` (field 22 of /proc/<pid>/stat), or undefined when it does not exist. */
export async function processStart(pid: number, procRoot = '/proc'): Promise<string | undefined> {
  let stat: string;
  try {
    stat = await readFile(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[19]; // fields 3.. -> index 0 is field 3, so field 22 is index 19
}

export async function ownerAlive(o: GroupOwner, procRoot: string | undefined): Promise<boolean> {
  return (await processStart(o.pid, procRoot)) === o.start;
}
