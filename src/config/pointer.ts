/**
 * JSON pointers (`/disks/0/format`, as ajv reports them) and their display form (`disks[0].format`). Pure.
 */

export function escapeSegment(seg: string | number): string {
  return String(seg).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function child(pointer: string, seg: string | number): string {
  return `${pointer}/${escapeSegment(seg)}`;
}

export function segments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function parentPointer(pointer: string): string {
  const i = pointer.lastIndexOf('/');
  return i <= 0 ? '' : pointer.slice(0, i);
}

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `disks[0].format`; array indices in brackets (decided by looking at `root`), odd keys quoted. */
export function displayPath(pointer: string, root: unknown): string {
  let out = '';
  let cur: unknown = root;
  for (const seg of segments(pointer)) {
    if (Array.isArray(cur) && /^\d+$/.test(seg)) {
      out += `[${seg}]`;
      cur = cur[Number(seg)];
    } else {
      out += PLAIN_KEY.test(seg) ? `${out === '' ? '' : '.'}${seg}` : `[${JSON.stringify(seg)}]`;
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

/** Short human rendering of a found value for problem messages. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  return String(v);
}

/** The JSON type name of a value as used in messages: `a string`, `an integer`, ... */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return 'a string';
}
