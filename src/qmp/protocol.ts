/**
 * QMP wire format: the message types QEMU sends, line framing, and classification of one parsed line.
 *
 * QEMU writes one JSON object per line (terminated by "\r\n"). A message is exactly one of:
 * - the greeting `{"QMP": {"version": ..., "capabilities": [...]}}` (once, right after connecting),
 * - a success reply `{"return": ..., "id": ...}`,
 * - an error reply `{"error": {"class": ..., "desc": ...}, "id": ...}`,
 * - an asynchronous event `{"event": ..., "data": ..., "timestamp": {...}}`.
 *
 * This module does no I/O.
 */

/** The first message QEMU sends on a QMP connection. */
export interface QmpGreeting {
  version: { qemu: { major: number; minor: number; micro: number }; package: string };
  /** Capabilities QEMU offers (for example "oob"); enable them with `qmp_capabilities`. */
  capabilities: string[];
}

/** An asynchronous QMP event, such as STOP, RESUME or SHUTDOWN. */
export interface QmpEvent {
  event: string;
  /** The event's payload; `{}` when QEMU sends none. */
  data: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

/** One classified message from QEMU. */
export type QmpMessage =
  | { kind: 'greeting'; greeting: QmpGreeting }
  | { kind: 'return'; id: unknown; value: unknown }
  | { kind: 'error'; id: unknown; errorClass: string; desc: string }
  | { kind: 'event'; event: QmpEvent }
  | { kind: 'unknown'; raw: unknown };

/** A line that is not valid JSON (a protocol violation: the connection cannot be trusted any further). */
export class QmpParseError extends Error {
  readonly line: string;
  constructor(line: string, cause: unknown) {
    const shown = line.length > 200 ? `${line.slice(0, 200)}...` : line;
    super(`Cannot parse QMP message from QEMU: ${cause instanceof Error ? cause.message : String(cause)}: ${shown}`);
    this.name = 'QmpParseError';
    this.line = line;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function parseGreeting(qmp: unknown): QmpGreeting | undefined {
  if (!isObject(qmp) || !isObject(qmp['version']) || !Array.isArray(qmp['capabilities'])) return undefined;
  const q = qmp['version']['qemu'];
  if (!isObject(q) || !isFiniteNumber(q['major']) || !isFiniteNumber(q['minor']) || !isFiniteNumber(q['micro'])) {
    return undefined;
  }
  const pkg = qmp['version']['package'];
  return {
    version: { qemu: { major: q['major'], minor: q['minor'], micro: q['micro'] }, package: typeof pkg === 'string' ? pkg : '' },
    capabilities: qmp['capabilities'].filter((c): c is string => typeof c === 'string'),
  };
}

/**
 * Parses and classifies one line. Throws QmpParseError for invalid JSON; well-formed JSON of an unexpected
 * shape is returned as `{ kind: 'unknown' }` so the caller can ignore it.
 */
export function parseMessage(line: string): QmpMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    throw new QmpParseError(line, e);
  }
  if (!isObject(raw)) return { kind: 'unknown', raw };
  if ('QMP' in raw) {
    const greeting = parseGreeting(raw['QMP']);
    return greeting === undefined ? { kind: 'unknown', raw } : { kind: 'greeting', greeting };
  }
  if ('return' in raw) return { kind: 'return', id: raw['id'], value: raw['return'] };
  if ('error' in raw) {
    const err = raw['error'];
    if (!isObject(err)) return { kind: 'unknown', raw };
    return {
      kind: 'error',
      id: raw['id'],
      errorClass: typeof err['class'] === 'string' ? err['class'] : 'GenericError',
      desc: typeof err['desc'] === 'string' ? err['desc'] : JSON.stringify(err),
    };
  }
  if (typeof raw['event'] === 'string') {
    const ts = raw['timestamp'];
    const data = raw['data'];
    return {
      kind: 'event',
      event: {
        event: raw['event'],
        data: isObject(data) ? data : {},
        timestamp: {
          seconds: isObject(ts) && isFiniteNumber(ts['seconds']) ? ts['seconds'] : 0,
          microseconds: isObject(ts) && isFiniteNumber(ts['microseconds']) ? ts['microseconds'] : 0,
        },
      },
    };
  }
  return { kind: 'unknown', raw };
}

/** Serializes one command as a line (QEMU accepts "\n"-terminated JSON). */
export function encodeCommand(command: string, id: number, args?: Record<string, unknown>): string {
  return `${JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id })}\n`;
}

/** The longest line accepted before the peer is treated as broken (query-qmp-schema is well under 1 MiB). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Splits a stream of text chunks into lines. Chunks may end mid-line or hold several lines; blank lines
 * are skipped. `push` returns the complete lines seen so far, in order.
 */
export class LineSplitter {
  #buf = '';
  readonly #maxLength: number;

  constructor(maxLength: number = MAX_LINE_BYTES) {
    this.#maxLength = maxLength;
  }

  push(chunk: string): string[] {
    const lines: string[] = [];
    let scanFrom = this.#buf.length;
    this.#buf += chunk;
    let start = 0;
    for (;;) {
      const nl = this.#buf.indexOf('\n', scanFrom);
      if (nl < 0) break;
      const line = this.#buf.slice(start, nl).trim();
      if (line !== '') lines.push(line);
      start = nl + 1;
      scanFrom = start;
    }
    this.#buf = this.#buf.slice(start);
    if (this.#buf.length > this.#maxLength) {
      throw new QmpParseError(this.#buf.slice(0, 200), new Error(`line longer than ${this.#maxLength} characters`));
    }
    return lines;
  }

  /** Text received after the last newline. */
  get pending(): string {
    return this.#buf;
  }
}
