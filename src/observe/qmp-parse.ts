/**
 * The QMP replies statistics need, parsed. Pure: replies in, plain data out; replies of an unexpected
 * shape are a QmpError naming the command.
 */
import { VmkitError } from '../errors.js';
import type { DiskStats } from './types.js';

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** `query-cpus-fast`: each vCPU's index and host thread id, in index order. */
export function parseVcpuThreads(reply: unknown): { index: number; tid: number }[] {
  if (!Array.isArray(reply)) throw new VmkitError('QmpError', 'Cannot read vCPU threads: query-cpus-fast did not return a list', { details: { command: 'query-cpus-fast' } });
  return reply
    .map((c, i) => {
      const o = obj(c);
      const index = o?.['cpu-index'];
      const tid = o?.['thread-id'];
      if (typeof index !== 'number' || typeof tid !== 'number') {
        throw new VmkitError('QmpError', `Cannot read vCPU threads: query-cpus-fast entry ${i} has no cpu-index/thread-id`, { details: { command: 'query-cpus-fast' } });
      }
      return { index, tid };
    })
    .sort((a, b) => a.index - b.index);
}

/**
 * The disk a query-blockstats entry belongs to: the device id vmkit gave it (`/machine/peripheral/<id>/...`
 * or `<id>`), else the format node vmkit named `<id>-fmt`, else whatever QEMU calls it.
 */
export function blockEntryId(entry: Record<string, unknown>): string | undefined {
  const qdev = typeof entry['qdev'] === 'string' ? entry['qdev'] : '';
  const peripheral = /^\/machine\/peripheral\/([^/]+)/.exec(qdev);
  if (peripheral?.[1] !== undefined) return peripheral[1];
  if (qdev !== '' && !qdev.startsWith('/')) return qdev;
  const node = typeof entry['node-name'] === 'string' ? entry['node-name'] : '';
  if (node.endsWith('-fmt')) return node.slice(0, -'-fmt'.length);
  const device = typeof entry['device'] === 'string' ? entry['device'] : '';
  if (device !== '') return device;
  if (qdev !== '') return qdev;
  return node === '' ? undefined : node;
}

/** `query-blockstats`: one entry per guest disk (the device's own counters, not its image nodes'). */
export function parseBlockstats(reply: unknown): DiskStats[] {
  if (!Array.isArray(reply)) throw new VmkitError('QmpError', 'Cannot read disk statistics: query-blockstats did not return a list', { details: { command: 'query-blockstats' } });
  const out: DiskStats[] = [];
  for (const e of reply) {
    const entry = obj(e);
    const s = obj(entry?.['stats']);
    if (entry === undefined || s === undefined) continue;
    const id = blockEntryId(entry);
    if (id === undefined) continue;
    out.push({
      id,
      readOps: num(s['rd_operations']),
      writeOps: num(s['wr_operations']),
      flushOps: num(s['flush_operations']),
      readBytes: num(s['rd_bytes']),
      writeBytes: num(s['wr_bytes']),
      readSeconds: num(s['rd_total_time_ns']) / 1e9,
      writeSeconds: num(s['wr_total_time_ns']) / 1e9,
      flushSeconds: num(s['flush_total_time_ns']) / 1e9,
    });
  }
  return out;
}

/** `query-balloon`: the balloon's actual size in bytes. */
export function parseBalloon(reply: unknown): number | undefined {
  const actual = obj(reply)?.['actual'];
  return typeof actual === 'number' && Number.isFinite(actual) ? actual : undefined;
}
