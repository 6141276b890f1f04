/** Follows a migration (outgoing or incoming) through QMP query-migrate until it ends, reporting progress. */
import { setTimeout as delay } from 'node:timers/promises';
import { VmkitError } from '../errors.js';
import type { QmpClient } from '../qmp/index.js';
import type { JobProgress } from './types.js';

interface MigrateInfo {
  readonly status?: string;
  readonly ram?: { transferred?: number; remaining?: number; total?: number; 'dirty-sync-count'?: number };
  readonly 'cpu-throttle-percentage'?: number;
  readonly downtime?: number;
  readonly 'total-time'?: number;
  readonly 'error-desc'?: string;
}

export interface WatchOptions {
  readonly signal?: AbortSignal;
  /** Bound on the whole migration. Default: none. */
  readonly timeoutMs?: number;
  /** Time between progress reports. Default 250 ms. */
  readonly intervalMs?: number;
  /** Also returns at `postcopy-active` (the destination then runs the guest). */
  readonly untilPostcopy?: boolean;
}

export function progressOf(op: JobProgress['op'], m: MigrateInfo): JobProgress {
  return {
    op,
    status: m.status ?? 'none',
    ...(m.ram?.transferred === undefined ? {} : { transferredBytes: m.ram.transferred }),
    ...(m.ram?.remaining === undefined ? {} : { remainingBytes: m.ram.remaining }),
    ...(m.ram?.total === undefined ? {} : { totalBytes: m.ram.total }),
    ...(m.ram?.['dirty-sync-count'] === undefined ? {} : { passes: m.ram['dirty-sync-count'] }),
    ...(m['cpu-throttle-percentage'] === undefined ? {} : { throttlePercent: m['cpu-throttle-percentage'] }),
    ...(m.downtime === undefined ? {} : { downtimeMs: m.downtime }),
    ...(m['total-time'] === undefined ? {} : { totalTimeMs: m['total-time'] }),
  };
}

/** Polls query-migrate until `completed` (resolves with the last progress) or `failed`/`cancelled` (throws). */
export async function watchMigration(qmp: QmpClient, op: JobProgress['op'], onProgress: (p: JobProgress) => void, opts: WatchOptions = {}): Promise<JobProgress> {
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  let last = '';
  for (;;) {
    opts.signal?.throwIfAborted();
    const m = await qmp.execute<MigrateInfo>('query-migrate', undefined, opts.signal === undefined ? {} : { signal: opts.signal });
    const p = progressOf(op, m);
    const line = JSON.stringify(p);
    if (line !== last) onProgress(p);
    last = line;
    if (p.status === 'completed') return p;
    if (opts.untilPostcopy === true && p.status === 'postcopy-active') return p;
    if (p.status === 'failed' || p.status === 'cancelled') {
      throw new VmkitError(p.status === 'cancelled' ? 'Aborted' : 'QemuFailed', `The ${op === 'incoming' || op === 'restore' ? 'incoming ' : ''}migration ${p.status}${m['error-desc'] === undefined ? '' : `: ${m['error-desc']}`}`, {
        details: { op, status: p.status, ...(m['error-desc'] === undefined ? {} : { error: m['error-desc'] }) },
      });
    }
    if (Date.now() > deadline) {
      throw new VmkitError('Timeout', `The ${op} did not complete within ${opts.timeoutMs} ms (last status ${p.status})`, { details: { op, status: p.status } });
    }
    await delay(opts.intervalMs ?? 250, undefined, opts.signal === undefined ? {} : { signal: opts.signal });
  }
}
