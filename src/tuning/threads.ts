/**
 * QEMU's thread ids: the QMP replies that name vCPU and iothread threads (parsed, pure) and the list of
 * every thread of the process (/proc/<pid>/task).
 */
import { readdir } from 'node:fs/promises';
import { VmkitError } from '../errors.js';
import type { QemuThreads } from './plan.js';

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

/**
 * Builds QemuThreads from the `return` values of `query-cpus-fast` (cpu-index, thread-id, props.socket-id/
 * core-id/thread-id) and `query-iothreads` (id, thread-id), and every tid of the process. Throws
 * QmpError when a reply lacks a thread id.
 */
export function parseQemuThreads(cpusFast: unknown, iothreads: unknown, all: readonly number[]): QemuThreads {
  if (!Array.isArray(cpusFast)) throw new VmkitError('QmpError', 'Cannot read vCPU threads: query-cpus-fast did not return a list');
  if (!Array.isArray(iothreads)) throw new VmkitError('QmpError', 'Cannot read iothreads: query-iothreads did not return a list');
  const vcpus = cpusFast.map((c, i) => {
    const o = obj(c);
    const index = int(o?.['cpu-index']);
    const tid = int(o?.['thread-id']);
    if (index === undefined || tid === undefined) {
      throw new VmkitError('QmpError', `Cannot read vCPU threads: query-cpus-fast entry ${i} has no cpu-index/thread-id`);
    }
    const props = obj(o?.['props']);
    const v: QemuThreads['vcpus'][number] = { index, tid };
    const socket = int(props?.['socket-id']);
    const core = int(props?.['core-id']);
    const thread = int(props?.['thread-id']);
    if (socket !== undefined) v.socket = socket;
    if (core !== undefined) v.core = core;
    if (thread !== undefined) v.thread = thread;
    return v;
  });
  const ios = iothreads.map((t, i) => {
    const o = obj(t);
    const id = o?.['id'];
    const tid = int(o?.['thread-id']);
    if (typeof id !== 'string' || tid === undefined) {
      throw new VmkitError('QmpError', `Cannot read iothreads: query-iothreads entry ${i} has no id/thread-id`);
    }
    return { id, tid };
  });
  return { vcpus, iothreads: ios, all: [...all] };
}

/** Every thread id of process `pid`, ascending. */
export async function readThreadIds(pid: number, opts: { procRoot?: string } = {}): Promise<number[]> {
  const dir = `${opts.procRoot ?? '/proc'}/${pid}/task`;
  try {
    return (await readdir(dir)).map(Number).filter(Number.isInteger).sort((a, b) => a - b);
  } catch (e) {
    throw new VmkitError('HostError', `Cannot list the threads of pid ${pid} (${dir}): ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
}
