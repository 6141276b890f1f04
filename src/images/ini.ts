/**
 * The line format virt-builder's index files and repository `.conf` files share (its index-scan.l): `[id]`
 * section headers, `field=value` and `field[subkey]=value` lines, continuation lines that start with a blank
 * (the blank is dropped, so a line of one space is an empty line of the value), `#` comments at the start
 * of a line, empty lines between sections. The text is UTF-8. Pure.
 */
import type { Problem } from '../errors.js';

export interface IniField {
  readonly key: string;
  /** `checksum[sha512]=`: `sha512`; absent for a plain `key=`. */
  readonly subkey?: string;
  readonly value: string;
  readonly line: number;
}

export interface IniSection {
  readonly name: string;
  readonly line: number;
  readonly fields: readonly IniField[];
}

const SECTION = /^\[([-A-Za-z0-9._]+)\][ \t]*$/;
const FIELD = /^([A-Za-z0-9_.]+)(?:\[([A-Za-z0-9_,.]+)\])?=(.*)$/;

/**
 * Splits `text` into sections; every line that fits none of the forms is a problem (placed at `file:line`).
 * A clearsigned file's PGP armour is not handled here: give the signed text (see clearsigned.ts).
 */
export function readIni(text: string, file: string): { sections: IniSection[]; problems: Problem[] } {
  const sections: { name: string; line: number; fields: { key: string; subkey?: string; value: string; line: number }[] }[] = [];
  const problems: Problem[] = [];
  let last: { value: string } | undefined;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') {
      last = undefined;
      return;
    }
    if (line.startsWith('#')) return;
    const current = sections[sections.length - 1];
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (last === undefined) problems.push({ file, line: n, col: 1, path: current === undefined ? '' : `[${current.name}]`, message: 'A continuation line (starting with a blank) must follow a field=value line' });
      else last.value += `\n${line.slice(1)}`;
      return;
    }
    const s = SECTION.exec(line);
    if (s !== null) {
      sections.push({ name: s[1] as string, line: n, fields: [] });
      last = undefined;
      return;
    }
    const f = FIELD.exec(line);
    if (f !== null) {
      if (current === undefined) {
        problems.push({ file, line: n, col: 1, path: '', message: `Field ${JSON.stringify(f[1])} comes before any [section] header` });
        last = undefined;
        return;
      }
      const field = { key: f[1] as string, ...(f[2] === undefined ? {} : { subkey: f[2] }), value: f[3] as string, line: n };
      current.fields.push(field);
      last = field;
      return;
    }
    last = undefined;
    problems.push({
      file,
      line: n,
      col: 1,
      path: current === undefined ? '' : `[${current.name}]`,
      message: 'Cannot parse this line: expected [section], field=value, field[subkey]=value, a continuation line starting with a blank, or a # comment',
      found: JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}...` : line),
    });
  });
  return { sections, problems };
}

/** Decodes UTF-8 strictly (the index is UTF-8); undefined when `bytes` is not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return undefined;
  }
}
