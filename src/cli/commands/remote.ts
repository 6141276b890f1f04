/**
 * Shared by the domain verbs (define, start, list, ...): find the connection (`--connect`, `VMKIT_URI`,
 * else the default daemon socket if a daemon answers), run the verb, report errors the one CLI way.
 */
import { connect } from '../../api/connect.js';
import type { DomainInfo, StopInfo, VmConnection } from '../../driver/api-types.js';
import { VmkitError } from '../../errors.js';
import { printJson, reportError } from '../output.js';
import { EXIT } from '../exit-codes.js';

export interface ConnectFlags {
  readonly connect?: string;
  readonly json?: boolean;
}

/** Opens the connection, runs `fn`, closes; returns the exit status. */
export async function withConnection(flags: ConnectFlags, fn: (conn: VmConnection) => Promise<number | void>): Promise<number> {
  let conn: VmConnection;
  try {
    conn = await connect(flags.connect);
  } catch (e) {
    return reportError(e, flags);
  }
  try {
    return (await fn(conn)) ?? EXIT.ok;
  } catch (e) {
    return reportError(e, flags);
  } finally {
    await conn.close();
  }
}

/** Prints `value` as JSON with --json, else the human text. */
export function emit(flags: ConnectFlags, value: unknown, human: string): void {
  if (flags.json === true) printJson(value);
  else if (human !== '') process.stdout.write(`${human}\n`);
}

/** Parses a number of seconds flag into ms; throws InvalidArgument naming the flag. */
export function secondsFlag(name: string, value: string | undefined, fallbackMs?: number): number | undefined {
  if (value === undefined) return fallbackMs;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new VmkitError('InvalidArgument', `${name} must be a number of seconds >= 0, got '${value}'`, { details: { flag: name, value } });
  }
  return Math.round(n * 1000);
}

/** An aligned text table. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatMiB(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`;
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(s / 3600);
  return h < 48 ? `${h}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(h / 24)}d${h % 24}h`;
}

export function describeStop(stop: StopInfo | undefined): string {
  if (stop === undefined) return '-';
  return `${stop.reason}: ${stop.message}`;
}

/** One-line summary used after lifecycle verbs. */
export function stateLine(info: DomainInfo): string {
  return `Domain '${info.name}' is ${info.state}${info.pid === undefined ? '' : ` (pid ${info.pid})`}`;
}
