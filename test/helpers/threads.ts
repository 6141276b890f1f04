import { readdir, readFile } from 'node:fs/promises';

export interface ThreadInfo {
  readonly tid: number;
  readonly comm: string;
  readonly cpus: string;
  readonly policy: number;
  readonly prio: number;
}

/** Every thread of `pid` with its name, Cpus_allowed_list and scheduling policy/prio, read from /proc. */
export async function readThreads(pid: number): Promise<ThreadInfo[]> {
  const out: ThreadInfo[] = [];
  for (const t of await readdir(`/proc/${pid}/task`)) {
    const base = `/proc/${pid}/task/${t}`;
    const [comm, status, sched] = await Promise.all([
      readFile(`${base}/comm`, 'utf8'),
      readFile(`${base}/status`, 'utf8'),
      readFile(`${base}/sched`, 'utf8'),
    ]);
    out.push({
      tid: Number(t),
      comm: comm.trim(),
      cpus: /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? '?',
      policy: Number(/^policy\s*:\s*(\d+)/m.exec(sched)?.[1] ?? -1),
      prio: Number(/^prio\s*:\s*(\d+)/m.exec(sched)?.[1] ?? -1),
    });
  }
  return out;
}
