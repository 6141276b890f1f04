/** Shared by the verbs that change a running VM (attach-*, detach-*, setvcpus, save, snapshot, migrate). */
import type { LifecycleEvent, VmConnection } from '../../driver/api-types.js';
import type { JobProgress } from '../../vmops/types.js';
import { secondsFlag, withConnection, type ConnectFlags } from './remote.js';

export { emit, stateLine } from './remote.js';
export type { ConnectFlags } from './remote.js';

export interface OpsFlags extends ConnectFlags {
  readonly persistent?: boolean;
  readonly timeout?: string;
}

/** Opens the connection and its VmOps. */
export function withOps(flags: ConnectFlags, fn: (ops: import('../../vmops/api.js').VmOps, conn: VmConnection) => Promise<number | void>): Promise<number> {
  return withConnection(flags, async (conn) => {
    const { vmops } = await import('../../vmops/api.js');
    return fn(await vmops(conn), conn);
  });
}

export function hotplugOpts(flags: OpsFlags): { persistent?: boolean; timeoutMs?: number } {
  const timeoutMs = secondsFlag('--timeout', flags.timeout);
  return { ...(flags.persistent === true ? { persistent: true } : {}), ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}

function mib(n: number | undefined): string {
  return n === undefined ? '?' : `${Math.round(n / 1048576)} MiB`;
}

/** One line for a progress event. */
export function progressLine(p: JobProgress): string {
  const pct = p.totalBytes !== undefined && p.remainingBytes !== undefined && p.totalBytes > 0 ? ` ${Math.round((100 * (p.totalBytes - p.remainingBytes)) / p.totalBytes)}%` : '';
  const extra = [
    p.transferredBytes === undefined ? '' : `${mib(p.transferredBytes)} sent`,
    p.passes === undefined ? '' : `pass ${p.passes}`,
    p.throttlePercent === undefined ? '' : `throttled ${p.throttlePercent}%`,
    p.downtimeMs === undefined ? '' : `downtime ${p.downtimeMs} ms`,
  ].filter((x) => x !== '');
  return `${p.op}: ${p.status}${pct}${extra.length === 0 ? '' : ` (${extra.join(', ')})`}`;
}

/** Prints the domain's progress events to stderr (not with --json) while `fn` runs. */
export async function withProgress<T>(conn: VmConnection, domain: string, flags: ConnectFlags, fn: () => Promise<T>): Promise<T> {
  const on = (ev: LifecycleEvent): void => {
    if (ev.domain === domain && ev.type === 'progress' && ev.progress !== undefined && flags.json !== true) process.stderr.write(`${progressLine(ev.progress)}\n`);
  };
  conn.on('event', on);
  try {
    return await fn();
  } finally {
    conn.off('event', on);
  }
}
