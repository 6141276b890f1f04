/**
 * virt-builder's native index format, read and written unchanged (virt-builder(1) "Creating and signing the
 * index file"): one `[os-version]` section per template and architecture, with name, osinfo, arch, file,
 * checksum[sha512] (or plain checksum), format, size, compressed_size, expand, lvexpand, revision, hidden,
 * aliases and notes / notes[LANG]. Pure.
 */
import { ConfigError, type Problem } from '../errors.js';
import { readIni, type IniSection } from './ini.js';

export interface TemplateNotes {
  /** `''` for a plain `notes=`, else the `[LANG]` subkey (`C` is the plain notes too). */
  readonly lang: string;
  readonly text: string;
}

/** One template of an index (one os-version on one architecture). */
export interface IndexEntry {
  /** The os-version: the section name. */
  readonly id: string;
  readonly name?: string;
  readonly osinfo?: string;
  readonly arch: string;
  /** `file=` as written: a path relative to the index. */
  readonly file: string;
  /** `checksum[sha512]=` (or the plain `checksum=` alias), lower-case hex. */
  readonly sha512?: string;
  readonly revision: number;
  readonly format?: string;
  /** Virtual size in bytes. */
  readonly size: number;
  readonly compressedSize?: number;
  readonly expand?: string;
  readonly lvexpand?: string;
  /** Sorted by language, as virt-builder keeps them. */
  readonly notes: readonly TemplateNotes[];
  readonly hidden: boolean;
  readonly aliases?: readonly string[];
}

const SHA512 = /^[0-9a-fA-F]{128}$/;
const UINT = /^[0-9]+$/;

/**
 * Where a template's `file=` points: the index URI's directory plus the relative path. Refused (undefined
 * with the reason) like virt-builder's same-origin rule, and more: an empty path, a URI (`scheme://`), an
 * absolute path or a host (`//host/x`), a `..` segment, a backslash, a query or fragment.
 */
export function templateUrl(indexUri: string, file: string): { url: string } | { reason: string } {
  if (file === '') return { reason: 'file= is empty' };
  if (file.includes('://')) return { reason: `file= must be a path relative to the index, not a URI (${JSON.stringify(file)}): templates come from the index's own server` };
  if (file.startsWith('/')) return { reason: `file= must be a relative path, not ${JSON.stringify(file)} (absolute paths and //host are refused)` };
  if (file.includes('\\') || file.includes('?') || file.includes('#') || /[\u0000-\u001f]/.test(file)) return { reason: `file= ${JSON.stringify(file)} holds a character vmkit refuses in a template path (\\, ?, #, control characters)` };
  if (file.split('/').some((seg) => seg === '..' || seg === '.' || seg === '')) return { reason: `file= ${JSON.stringify(file)} has a '..', '.' or empty segment: templates must sit at or below the index's directory` };
  const cut = indexUri.lastIndexOf('/');
  const base = cut < 0 ? `${indexUri}/` : indexUri.slice(0, cut + 1);
  const url = base + file.split('/').map(encodeURIComponent).join('/');
  // Belt and braces: the result must still be under the index's directory on the same origin.
  try {
    const b = new URL(base);
    const u = new URL(url);
    if (u.origin !== b.origin || !u.pathname.startsWith(b.pathname)) return { reason: `file= ${JSON.stringify(file)} leaves the index's directory` };
  } catch {
    return { reason: `file= ${JSON.stringify(file)} does not make a valid URL with the index URI ${indexUri}` };
  }
  return { url };
}

/**
 * Parses an index (the signed text, without its PGP armour). Throws ConfigError listing every problem, each
 * at `file:line` (file: the index URI): unparsable lines, repeated fields, an os-version repeated on the same
 * architecture, missing file/arch/size, bad numbers, a bad checksum, a `file=` outside the index's directory.
 */
export function parseIndex(text: string, indexUri: string): IndexEntry[] {
  const { sections, problems } = readIni(text, indexUri);
  const entries: IndexEntry[] = [];
  const seen = new Map<string, number>();
  for (const s of sections) {
    const entry = entryOf(s, indexUri, problems);
    if (entry === undefined) continue;
    const key = `${entry.id}\u0000${entry.arch}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ file: indexUri, line: s.line, col: 1, path: `[${s.name}]`, message: `os-version ${JSON.stringify(s.name)} with architecture ${JSON.stringify(entry.arch)} appears again (first at line ${first})` });
      continue;
    }
    seen.set(key, s.line);
    entries.push(entry);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return entries;
}

function entryOf(s: IniSection, indexUri: string, problems: Problem[]): IndexEntry | undefined {
  const at = (line: number, field: string, message: string, found?: string): void => {
    problems.push({ file: indexUri, line, col: 1, path: `[${s.name}].${field}`, message, ...(found === undefined ? {} : { found }) });
  };
  const before = problems.length;
  const fields = new Map<string, { value: string; line: number }>();
  const notes: TemplateNotes[] = [];
  for (const f of s.fields) {
    const name = f.subkey === undefined ? f.key : `${f.key}[${f.subkey}]`;
    if (fields.has(name)) {
      at(f.line, name, `Field ${name} appears two or more times in [${s.name}]`);
      continue;
    }
    fields.set(name, { value: f.value, line: f.line });
    if (f.key === 'notes') notes.push({ lang: f.subkey ?? '', text: f.value });
  }
  const str = (k: string): string | undefined => fields.get(k)?.value;
  const num = (k: string, required: boolean): number | undefined => {
    const f = fields.get(k);
    if (f === undefined) {
      if (required) at(s.line, k, `No ${k}= field for ${JSON.stringify(s.name)} (it is required)`);
      return undefined;
    }
    if (!UINT.test(f.value) || !Number.isSafeInteger(Number(f.value))) {
      at(f.line, k, `Cannot parse ${k}= as a whole number`, JSON.stringify(f.value));
      return undefined;
    }
    return Number(f.value);
  };
  const file = fields.get('file');
  if (file === undefined) at(s.line, 'file', `No file= entry for ${JSON.stringify(s.name)}`);
  else {
    const checked = templateUrl(indexUri, file.value);
    if ('reason' in checked) at(file.line, 'file', checked.reason);
  }
  const arch = str('arch');
  if (arch === undefined) at(s.line, 'arch', `No arch= entry for ${JSON.stringify(s.name)}`);
  const size = num('size', true);
  const compressedSize = num('compressed_size', false);
  const revField = fields.get('revision');
  const revision = revField === undefined ? 1 : num('revision', false);
  const sumField = fields.get('checksum[sha512]') ?? fields.get('checksum');
  if (sumField !== undefined && !SHA512.test(sumField.value)) at(sumField.line, 'checksum[sha512]', 'The checksum must be 128 hexadecimal digits (sha512sum of the file)', JSON.stringify(sumField.value));
  const hiddenField = fields.get('hidden');
  if (hiddenField !== undefined && hiddenField.value !== 'true' && hiddenField.value !== 'false') at(hiddenField.line, 'hidden', 'hidden= must be true or false', JSON.stringify(hiddenField.value));
  const aliases = str('aliases')?.split(' ').filter((a) => a !== '');
  if (problems.length > before || file === undefined || arch === undefined || size === undefined || revision === undefined) return undefined;
  notes.sort((a, b) => (a.lang < b.lang ? -1 : a.lang > b.lang ? 1 : 0));
  const opt = <K extends string>(k: K, v: string | undefined): { [P in K]?: string } => (v === undefined ? {} : ({ [k]: v } as { [P in K]: string }));
  return {
    id: s.name,
    ...opt('name', str('name')),
    ...opt('osinfo', str('osinfo')),
    arch,
    file: file.value,
    ...(sumField === undefined ? {} : { sha512: sumField.value.toLowerCase() }),
    revision,
    ...opt('format', str('format')),
    size,
    ...(compressedSize === undefined ? {} : { compressedSize }),
    ...opt('expand', str('expand')),
    ...opt('lvexpand', str('lvexpand')),
    notes,
    hidden: hiddenField?.value === 'true',
    ...(aliases === undefined || aliases.length === 0 ? {} : { aliases }),
  };
}

/** Writes entries as an index file (the inverse of parseIndex: multi-line notes become continuation lines). */
export function writeIndex(entries: readonly IndexEntry[]): string {
  const out: string[] = [];
  for (const e of entries) {
    out.push(`[${e.id}]`);
    if (e.name !== undefined) out.push(`name=${e.name}`);
    if (e.osinfo !== undefined) out.push(`osinfo=${e.osinfo}`);
    out.push(`arch=${e.arch}`);
    out.push(`file=${e.file}`);
    if (e.sha512 !== undefined) out.push(`checksum[sha512]=${e.sha512}`);
    out.push(`revision=${e.revision}`);
    if (e.format !== undefined) out.push(`format=${e.format}`);
    out.push(`size=${e.size}`);
    if (e.compressedSize !== undefined) out.push(`compressed_size=${e.compressedSize}`);
    if (e.expand !== undefined) out.push(`expand=${e.expand}`);
    if (e.lvexpand !== undefined) out.push(`lvexpand=${e.lvexpand}`);
    for (const n of e.notes) out.push(`${n.lang === '' ? 'notes' : `notes[${n.lang}]`}=${n.text.split('\n').join('\n ')}`);
    if (e.aliases !== undefined && e.aliases.length > 0) out.push(`aliases=${e.aliases.join(' ')}`);
    if (e.hidden) out.push('hidden=true');
    out.push('');
  }
  return out.join('\n');
}

/**
 * Merges the indexes of several repositories as virt-builder does: for each os-version and architecture the
 * highest revision is kept (the first one among equals); the order is otherwise kept.
 */
export function mergeIndexes<E extends { readonly id: string; readonly arch: string; readonly revision: number }>(lists: readonly (readonly E[])[]): E[] {
  const all = lists.flat();
  const best = new Map<string, number>();
  for (const e of all) {
    const k = `${e.id}\u0000${e.arch}`;
    best.set(k, Math.max(best.get(k) ?? -Infinity, e.revision));
  }
  const out: E[] = [];
  for (const e of all) {
    const k = `${e.id}\u0000${e.arch}`;
    if (best.get(k) === e.revision) {
      out.push(e);
      best.delete(k);
    }
  }
  return out;
}

/** `amd64` -> `x86_64`, `arm64` -> `aarch64`; Node's process.arch names too. */
export function normalizeArch(arch: string): string {
  switch (arch) {
    case 'x64':
    case 'amd64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    case 'ia32':
    case 'i386':
    case 'i486':
    case 'i586':
      return 'i686';
    default:
      return arch;
  }
}

/** This host's architecture, as index files write it. */
export function hostArch(): string {
  return normalizeArch(process.arch);
}

/**
 * Finds the template `idOrAlias` on `arch` (aliases first, as virt-builder does). Undefined when there is none.
 */
export function findTemplate<E extends IndexEntry>(entries: readonly E[], idOrAlias: string, arch: string): E | undefined {
  const id = entries.find((e) => e.aliases?.includes(idOrAlias) === true)?.id ?? idOrAlias;
  const wanted = normalizeArch(arch);
  return entries.find((e) => e.id === id && normalizeArch(e.arch) === wanted);
}
