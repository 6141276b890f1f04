/**
 * `vmkit image list` and `image notes` output, laid out as `virt-builder --list`, `--list --long`,
 * `--list-format json` and `--notes` print it (the same columns, labels, size notation and language choice
 * for notes), so scripts written for virt-builder's output keep working. Pure.
 */
import type { IndexEntry, TemplateNotes } from './index-file.js';

/** A repository as the long and JSON listings show it. */
export interface ListedSource {
  readonly uri: string;
  /** The key file (from `gpgkey=file://...`). */
  readonly key?: string;
  /** A key fingerprint, when the source names one instead of a file. */
  readonly fingerprint?: string;
}

/**
 * virt-builder's size notation: bytes below 1 KiB, else one decimal and K, M or G (each step divides the
 * whole number of the previous unit by 1024; the decimal is rounded half to even, as C's printf does).
 */
export function humanSize(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  let i = Math.abs(Math.trunc(bytes));
  if (i < 1024) return `${sign}${i}`;
  for (const unit of ['K', 'M', 'G']) {
    if (unit === 'G' || Math.floor(i / 1024) < 1024) return `${sign}${oneDecimal(i)}${unit}`;
    i = Math.floor(i / 1024);
  }
  return `${sign}${i}`;
}

/** `n / 1024` with one decimal, exactly (n is a whole number), ties to even. */
function oneDecimal(n: number): string {
  const tenthsNum = BigInt(n) * 10n;
  let whole = tenthsNum / 1024n;
  const rem = tenthsNum % 1024n;
  if (rem * 2n > 1024n || (rem * 2n === 1024n && whole % 2n === 1n)) whole += 1n;
  return `${whole / 10n}.${whole % 10n}`;
}

/**
 * The languages whose notes are wanted, most specific first, as virt-builder derives them from the locale
 * of messages (LC_ALL, then LC_MESSAGES, then LANG): `fr_CA.UTF-8` -> fr_CA, fr, then the plain notes ('').
 */
export function noteLanguages(env: NodeJS.ProcessEnv = process.env): string[] {
  const locale = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((v) => v !== undefined && v !== '') ?? 'C';
  const m = /^([a-z]+)(_([a-z]+))?(\.([a-z0-9-]+))?(@([a-z]+))?$/i.exec(locale);
  if (m === null) return [''];
  const lang = m[1] as string;
  return [...(m[3] === undefined ? [] : [`${lang}_${m[3]}`]), lang, ''];
}

/** The notes to show for `languages` (first match wins); `C` stands for the plain notes. */
export function pickNotes(notes: readonly TemplateNotes[], languages: readonly string[]): string | undefined {
  for (const lang of languages) {
    const found = notes.find((n) => (n.lang === 'C' ? lang === '' : n.lang === lang));
    if (found !== undefined) return found.text;
  }
  return undefined;
}

/** `virt-builder --list`: os-version, architecture and full name; hidden templates are left out. */
export function listShort(entries: readonly IndexEntry[]): string {
  return entries
    .filter((e) => !e.hidden)
    .map((e) => `${e.id.padEnd(24)} ${e.arch.padEnd(10)}${e.name === undefined ? '' : ` ${e.name}`}\n`)
    .join('');
}

/** `virt-builder --list --long`: the sources, then each template's details and notes. */
export function listLong(entries: readonly IndexEntry[], sources: readonly ListedSource[], languages: readonly string[]): string {
  const label = (l: string, v: string): string => `${l.padEnd(24)} ${v}\n`;
  let out = '';
  for (const s of sources) {
    out += `Source URI: ${s.uri}\n`;
    if (s.fingerprint !== undefined) out += `Fingerprint: ${s.fingerprint}\n`;
    else if (s.key !== undefined) out += `Key: ${s.key}\n`;
    out += '\n';
  }
  for (const e of entries) {
    if (e.hidden) continue;
    out += label('os-version:', e.id);
    if (e.name !== undefined) out += label('Full name:', e.name);
    out += label('Architecture:', e.arch);
    out += label('Minimum/default size:', humanSize(e.size));
    if (e.compressedSize !== undefined) out += label('Download size:', humanSize(e.compressedSize));
    if (e.aliases !== undefined) out += label('Aliases:', e.aliases.join(' '));
    const notes = pickNotes(e.notes, languages);
    if (notes !== undefined) out += `\nNotes:\n\n${notes}\n`;
    out += '\n';
  }
  return out;
}

/** `virt-builder --list --list-format json`, with the same keys (compressed-size is a string there too). */
export function listJson(entries: readonly IndexEntry[], sources: readonly ListedSource[]): object {
  return {
    version: 1,
    sources: sources.map((s) => ({ ...(s.fingerprint !== undefined ? { fingerprint: s.fingerprint } : s.key !== undefined ? { key: s.key } : {}), uri: s.uri })),
    templates: entries.map((e) => ({
      'os-version': e.id,
      ...(e.name === undefined ? {} : { 'full-name': e.name }),
      arch: e.arch,
      size: e.size,
      ...(e.compressedSize === undefined ? {} : { 'compressed-size': String(e.compressedSize) }),
      ...(e.notes.length === 0 ? {} : { notes: Object.fromEntries(e.notes.map((n) => [n.lang === '' ? 'C' : n.lang, n.text])) }),
      ...(e.aliases === undefined ? {} : { aliases: [...e.aliases] }),
      ...(e.osinfo === undefined ? {} : { osinfo: e.osinfo }),
      hidden: e.hidden,
    })),
  };
}

/** `virt-builder --notes ID`: the notes and a newline, or the sentence it prints when there are none. */
export function notesText(entry: IndexEntry, languages: readonly string[]): string {
  const notes = pickNotes(entry.notes, languages);
  return notes === undefined ? `There are no notes for ${entry.id}\n` : `${notes}\n`;
}
