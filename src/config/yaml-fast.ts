/**
 * A fast reader for the plain subset of YAML that definitions are usually written in: block mappings and
 * sequences, one-line flow collections (`{ path: a, format: raw }`, `[a, b]`), plain scalars, and one-line
 * quoted scalars without escapes, with comments. It gives the same plain data as `readYaml` (YAML 1.2 core
 * schema: null, booleans, integers in decimal, 0o and 0x, floats; keys as written) or `undefined` as soon as
 * the text uses anything else (anchors, tags, block scalars, multi-line scalars, escapes, tabs, CR, document
 * markers, duplicate or unusual keys, ...), in which case the caller reads it with the full parser.
 * It never reports problems: a definition with any problem is read again by the full parser, which gives
 * every problem with its position. Pure.
 */
import { MAX_DEPTH } from './limits.js';

/** Plain keys accepted: what definitions use (`name`, `boot_index`, `0`, `io0`, `QEMU_AUDIO_DRV`, `virtio-rng`). */
const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.+/-]*$/;
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
/** Characters a plain scalar may not start with (YAML indicators), checked before `-` handling. */
const INDICATORS = new Set(['?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);

/**
 * Deepest nesting this reader follows (its readers recurse); deeper text goes to the full reader, which
 * reports nesting past MAX_DEPTH.
 */
const MAX_FAST_DEPTH = MAX_DEPTH / 2;

/** YAML allows at most 1024 characters from the start of an implicit key to its `:`; keep well below. */
const MAX_KEY_SPAN = 1000;

class Bail extends Error {}
const BAIL = new Bail();

function bail(): never {
  throw BAIL;
}

/** A plain scalar's value under the core schema, as the full parser resolves it. */
function resolvePlain(s: string): unknown {
  // Only these first characters can start a null, a boolean or a number.
  if (!'~nNtTfF0123456789+-.'.includes(s[0] ?? '~')) return s;
  if (NULL.test(s)) return null;
  if (BOOL.test(s)) return s[0] === 't' || s[0] === 'T';
  if (INT_OCT.test(s)) return parseInt(s.substring(2), 8);
  if (INT.test(s)) return parseInt(s, 10);
  if (INT_HEX.test(s)) return parseInt(s.substring(2), 16);
  if (FLOAT_NAN.test(s)) bail(); // not finite: the full reader reports it
  if (FLOAT_EXP.test(s) || FLOAT.test(s)) return parseFloat(s);
  return s;
}

/**
 * Adds `key: value` to a mapping being read. `ids` holds the values of the mapping's keys so far: keys
 * written differently that the full reader takes for the same value (`1`, `01`, `0x1`, `1.0`; `true`,
 * `True`) are duplicates there, and the full reader reports them.
 */
function setKey(obj: Record<string, unknown>, ids: Set<string>, key: string, value: unknown): void {
  if (!KEY.test(key) || NULL.test(key) || key === '__proto__' || Object.prototype.hasOwnProperty.call(obj, key)) bail();
  const v = resolvePlain(key);
  const id = `${typeof v}:${String(v)}`;
  if (ids.has(id)) bail();
  ids.add(id);
  obj[key] = value;
}

interface Line {
  readonly indent: number;
  /** The line without its indentation (not blank, not a comment). */
  readonly text: string;
}

class Reader {
  private i = 0;
  /** Mappings and sequences open around the current line. */
  private depth = 0;
  constructor(private readonly lines: readonly Line[]) {}

  done(): boolean {
    return this.i >= this.lines.length;
  }

  /** A block node whose first line is the current one, at its indentation. */
  block(): unknown {
    const line = this.lines[this.i] ?? bail();
    return isSeqItem(line.text, 0) ? this.seq(line.indent) : this.map(line.indent, 0);
  }

  /** A block mapping whose entries sit at `indent`; the first one starts at `col` of the current line's text. */
  map(indent: number, col: number): Record<string, unknown> {
    if (++this.depth > MAX_FAST_DEPTH) bail();
    const obj: Record<string, unknown> = {};
    const ids = new Set<string>();
    let first = true;
    for (;;) {
      const line = this.lines[this.i];
      if (line === undefined) break;
      if (first) {
        first = false;
      } else {
        if (line.indent < indent) break;
        if (line.indent > indent) bail();
        if (isSeqItem(line.text, 0)) break; // a sequence at the parent's key indentation ends this mapping
        col = 0;
      }
      const text = line.text;
      const colon = keyEnd(text, col);
      if (colon - col > MAX_KEY_SPAN) bail();
      const key = text.slice(col, colon).trimEnd();
      let j = colon + 1;
      while (text[j] === ' ') j++;
      this.i++;
      if (j >= text.length || text[j] === '#') {
        // `key:` with its value on the following lines (or none: null)
        const next = this.lines[this.i];
        if (next !== undefined && next.indent > indent) setKey(obj, ids, key, this.block());
        else if (next !== undefined && next.indent === indent && isSeqItem(next.text, 0)) setKey(obj, ids, key, this.seq(indent));
        else setKey(obj, ids, key, null);
      } else {
        setKey(obj, ids, key, inlineValue(text, j, this.depth));
        const next = this.lines[this.i];
        if (next !== undefined && next.indent > indent) bail(); // a multi-line scalar, or an error
      }
    }
    this.depth--;
    return obj;
  }

  /** A block sequence whose `-` sit at `indent`. */
  seq(indent: number): unknown[] {
    if (++this.depth > MAX_FAST_DEPTH) bail();
    const out: unknown[] = [];
    for (;;) {
      const line = this.lines[this.i];
      if (line === undefined || line.indent < indent) break;
      if (line.indent > indent || !isSeqItem(line.text, 0)) {
        if (line.indent === indent) break; // a mapping key after the sequence (the parent continues)
        bail();
      }
      const text = line.text;
      let j = 1;
      while (text[j] === ' ') j++;
      if (j >= text.length || text[j] === '#') {
        this.i++;
        const next = this.lines[this.i];
        if (next !== undefined && next.indent > indent) out.push(this.block());
        else out.push(null);
        continue;
      }
      if (isSeqItem(text, j)) bail(); // `- - x`
      if (startsMapEntry(text, j)) {
        // `- key: value` and more keys below, aligned with `key`
        out.push(this.map(indent + j, j));
        continue;
      }
      this.i++;
      out.push(inlineValue(text, j, this.depth));
      const next = this.lines[this.i];
      if (next !== undefined && next.indent > indent) bail();
    }
    this.depth--;
    return out;
  }
}

function isSeqItem(text: string, at: number): boolean {
  return text[at] === '-' && (at + 1 === text.length || text[at + 1] === ' ');
}

/** The offset of the `:` ending a plain key that starts at `col` (`key:` then space or end of line); bails otherwise. */
function keyEnd(text: string, col: number): number {
  const c = text[col];
  if (c === undefined || INDICATORS.has(c) || c === '-') bail();
  for (let j = col; j < text.length; j++) {
    const ch = text[j];
    if (ch === ':' && (j + 1 === text.length || text[j + 1] === ' ')) return j;
    if (ch === '#' && text[j - 1] === ' ') bail();
  }
  return bail();
}

/** True when a plain key (`word:` then space or end) starts at `col`. */
function startsMapEntry(text: string, col: number): boolean {
  const c = text[col];
  if (c === undefined || INDICATORS.has(c) || c === '-') return false;
  for (let j = col; j < text.length; j++) {
    const ch = text[j];
    if (ch === ':' && (j + 1 === text.length || text[j + 1] === ' ')) return true;
    if (ch === ' ' && text[j + 1] === '#') return false;
  }
  return false;
}

/** A value on the rest of a line in block context: flow collection, quoted or plain scalar, then an optional comment. */
function inlineValue(text: string, j: number, depth: number): unknown {
  const c = text[j];
  let value: unknown;
  let end: number;
  if (c === '{' || c === '[') {
    [value, end] = flow(text, j, depth + 1);
  } else if (c === '"' || c === "'") {
    [value, end] = quoted(text, j);
  } else {
    let k = j;
    for (; k < text.length; k++) {
      const ch = text[k];
      if (ch === '#' && text[k - 1] === ' ') break;
      if (ch === ':' && (k + 1 === text.length || text[k + 1] === ' ')) bail(); // `a: b: c`
    }
    const raw = text.slice(j, k).trimEnd();
    checkPlainStart(raw);
    return resolvePlain(raw);
  }
  while (text[end] === ' ') end++;
  if (end < text.length && !(text[end] === '#' && text[end - 1] === ' ')) bail();
  return value;
}

function checkPlainStart(raw: string): void {
  const c = raw[0];
  if (c === undefined || INDICATORS.has(c)) bail();
  // `-x` is a plain scalar; `- x` (or a lone `-`) is not.
  if (c === '-' && (raw.length === 1 || ' ,[]{}'.includes(raw[1] as string))) bail();
}

/** A one-line quoted scalar without escapes starting at `j`: [value, offset after the closing quote]. */
function quoted(text: string, j: number): [string, number] {
  const q = text[j];
  if (q === '"') {
    const close = text.indexOf('"', j + 1);
    if (close < 0) bail();
    const s = text.slice(j + 1, close);
    if (s.includes('\\')) bail();
    return [s, close + 1];
  }
  let s = '';
  let k = j + 1;
  for (;;) {
    const close = text.indexOf("'", k);
    if (close < 0) bail();
    s += text.slice(k, close);
    if (text[close + 1] === "'") {
      s += "'";
      k = close + 2;
      continue;
    }
    return [s, close + 1];
  }
}

/** A one-line flow collection starting at `j` (`{` or `[`): [value, offset after its closing bracket]. */
function flow(text: string, j: number, depth: number): [unknown, number] {
  if (depth > MAX_FAST_DEPTH) bail();
  const open = text[j];
  const close = open === '{' ? '}' : ']';
  const obj: Record<string, unknown> = {};
  const ids = new Set<string>();
  const arr: unknown[] = [];
  let k = j + 1;
  const skip = (): void => {
    while (text[k] === ' ') k++;
  };
  skip();
  if (text[k] === close) return [open === '{' ? obj : arr, k + 1];
  for (;;) {
    skip();
    if (open === '{') {
      const start = k;
      while (k < text.length && text[k] !== ':' && text[k] !== ',' && text[k] !== '}' && text[k] !== '{' && text[k] !== '[' && text[k] !== ']') k++;
      if (text[k] !== ':' || text[k + 1] !== ' ' || k - start > MAX_KEY_SPAN) bail();
      const key = text.slice(start, k).trimEnd();
      k++;
      skip();
      const [v, e] = flowValue(text, k, depth);
      setKey(obj, ids, key, v);
      k = e;
    } else {
      const [v, e] = flowValue(text, k, depth);
      arr.push(v);
      k = e;
    }
    skip();
    if (text[k] === ',') {
      k++;
      skip();
      if (text[k] === close || text[k] === ',') bail(); // trailing or empty entries: leave them to the full reader
      continue;
    }
    if (text[k] === close) return [open === '{' ? obj : arr, k + 1];
    return bail();
  }
}

/** A value inside a flow collection: [value, offset after it]. */
function flowValue(text: string, k: number, depth: number): [unknown, number] {
  const c = text[k];
  if (c === '{' || c === '[') return flow(text, k, depth + 1);
  if (c === '"' || c === "'") return quoted(text, k);
  const start = k;
  for (; k < text.length; k++) {
    const ch = text[k];
    if (ch === ',' || ch === '}' || ch === ']') break;
    if (ch === '[' || ch === '{') bail();
    if (ch === ':' && (text[k + 1] === ' ' || text[k + 1] === ',' || text[k + 1] === '}' || text[k + 1] === ']' || k + 1 === text.length)) bail();
    if (ch === '#' && text[k - 1] === ' ') bail();
  }
  const raw = text.slice(start, k).trimEnd();
  checkPlainStart(raw);
  return [resolvePlain(raw), k];
}

/**
 * The plain data of a definition whose top level is a block mapping, when it is written in the simple
 * subset this reader knows; `undefined` when the full YAML reader must read it.
 */
export function readYamlFast(text: string): Record<string, unknown> | undefined {
  if (/[^\x20-\x7e\n]/.test(text)) return undefined; // tabs, CR, BOM, control and non-ASCII characters
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    let indent = 0;
    while (raw.charCodeAt(indent) === 32) indent++;
    if (indent === raw.length || raw[indent] === '#') continue; // blank or comment
    if (indent === 0 && (raw.startsWith('---') || raw.startsWith('...') || raw[0] === '%')) return undefined;
    lines.push({ indent, text: raw.slice(indent).trimEnd() });
  }
  if (lines.length === 0 || lines[0]?.indent !== 0) return undefined;
  try {
    const reader = new Reader(lines);
    if (isSeqItem(lines[0].text, 0)) return undefined;
    const value = reader.map(0, 0);
    return reader.done() ? value : undefined;
  } catch (e) {
    if (e instanceof Bail) return undefined;
    throw e;
  }
}
