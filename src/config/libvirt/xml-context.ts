/**
 * Reading a domain XML tree: every element, attribute and text a reader looks at is marked as used, so that
 * whatever is left over is reported as unsupported (never silently dropped). Problems carry the XML path
 * (`/domain/devices/disk[2]/driver/@cache`) and the line and column. Problems that the native resolvers
 * raise against native JSON pointers are mapped back to the XML node the value came from. Pure.
 */
import type { Problem } from '../../errors.js';
import { parentPointer } from '../pointer.js';
import { countOmitted, listFull, Problems, type ProblemInit } from '../problems.js';
import type { LineIndex, XmlElement } from './xml-tree.js';

/** Where in the XML something is: an element, one of its attributes (present or missing), or its text. */
export type XmlAt = XmlElement | { readonly el: XmlElement; readonly attr: string } | { readonly el: XmlElement; readonly text: true };

export function atElement(at: XmlAt): XmlElement {
  return 'el' in at ? at.el : at;
}

export function pathOf(at: XmlAt): string {
  if (!('el' in at)) return at.path;
  return 'attr' in at ? `${at.el.path}/@${at.attr}` : at.el.path;
}

function offsetOf(at: XmlAt): number {
  if (!('el' in at)) return at.offset;
  if ('attr' in at) return at.el.attrs.find((a) => a.name === at.attr)?.offset ?? at.el.offset;
  return at.el.textOffset ?? at.el.offset;
}

/** Problems at XML nodes; `add(pointer)` (used by the shared native resolvers) maps native pointers to nodes. */
export class XmlProblems extends Problems {
  readonly #lines: LineIndex;
  readonly #locs = new Map<string, XmlAt>();
  readonly #claimed = new Set<string>();
  readonly #root: XmlElement | undefined;
  readonly #file: string | undefined;

  constructor(file: string | undefined, lines: LineIndex, root: XmlElement | undefined) {
    super({ file });
    this.#file = file;
    this.#lines = lines;
    this.#root = root;
  }

  /** Records that the native value at `pointer` came from `at`. */
  map(pointer: string, at: XmlAt): void {
    this.#locs.set(pointer, at);
  }

  /** The XML reader already reported this value: problems the native checks raise at or below it are dropped. */
  claim(pointer: string): void {
    this.#claimed.add(pointer);
  }

  /** True when `pointer`, or a value it lies in, was claimed. */
  #isClaimed(pointer: string): boolean {
    if (this.#claimed.size === 0) return false;
    for (let p = pointer; ; p = parentPointer(p)) {
      if (this.#claimed.has(p)) return true;
      if (p === '') return false;
    }
  }

  override add(pointer: string, init: ProblemInit): void {
    if (this.#isClaimed(pointer)) return;
    if (this.full) {
      countOmitted(this.list);
      return;
    }
    const at = this.#nodeOf(pointer);
    if (at === undefined) {
      this.addAt(undefined, '', init);
      return;
    }
    this.at(at, init);
  }

  /** The node the native value at `pointer` came from: its own, else its closest recorded ancestor's, else the root. */
  #nodeOf(pointer: string): XmlAt | undefined {
    let p = pointer;
    let at = this.#locs.get(p);
    while (at === undefined && p !== '') {
      p = parentPointer(p);
      at = this.#locs.get(p);
    }
    return at ?? this.#root;
  }

  /** Where the native value at `pointer` was written: line, column and XML path (as add() would report it). */
  locate(pointer: string): { line: number; col: number; path: string } | undefined {
    const at = this.#nodeOf(pointer);
    return at === undefined ? undefined : { ...this.#lines.pos(offsetOf(at)), path: pathOf(at) };
  }

  at(at: XmlAt, init: ProblemInit): void {
    if (this.full) {
      countOmitted(this.list);
      return;
    }
    this.addAt(this.#lines.pos(offsetOf(at)), pathOf(at), init);
  }

  /** A Problem at `at` without recording it (for warnings). */
  make(at: XmlAt, init: ProblemInit): Problem {
    const scratch = new Problems({ file: this.#file });
    scratch.addAt(this.#lines.pos(offsetOf(at)), pathOf(at), init);
    return scratch.list[0] as Problem;
  }
}

export interface XmlContextOptions {
  readonly file: string | undefined;
  readonly lines: LineIndex;
  readonly root: XmlElement;
  /** Unsupported elements and attributes become warnings (and are left out) instead of problems. */
  readonly lenient: boolean;
}

export class XmlContext {
  readonly problems: XmlProblems;
  readonly warnings: Problem[] = [];
  readonly lenient: boolean;
  readonly #used = new WeakSet<object>();
  readonly #textUsed = new WeakSet<XmlElement>();

  constructor(opts: XmlContextOptions) {
    this.problems = new XmlProblems(opts.file, opts.lines, opts.root);
    this.lenient = opts.lenient;
    this.#used.add(opts.root);
  }

  /** Marks an element as understood (its attributes and children are checked separately). */
  use(el: XmlElement): XmlElement {
    this.#used.add(el);
    return el;
  }

  /** Marks an element and everything inside it as understood. */
  useAll(el: XmlElement): void {
    this.#used.add(el);
    this.#textUsed.add(el);
    for (const a of el.attrs) this.#used.add(a);
    for (const c of el.children) this.useAll(c);
  }

  /** The children named `local` (in namespace `uri`), marked as used. */
  children(el: XmlElement, local: string, uri = ''): XmlElement[] {
    return el.children.filter((c) => c.local === local && c.uri === uri).map((c) => this.use(c));
  }

  /** The one child named `local`; a second one is a problem (libvirt allows one). */
  child(el: XmlElement, local: string, uri = ''): XmlElement | undefined {
    const all = this.children(el, local, uri);
    for (const extra of all.slice(1)) {
      this.error(extra, `<${extra.name}> may appear only once in <${el.name}>`);
      this.useAll(extra);
    }
    return all[0];
  }

  /** An attribute's value (unprefixed attributes only), marked as used. */
  attr(el: XmlElement, name: string): string | undefined {
    const a = el.attrs.find((x) => x.name === name);
    if (a === undefined) return undefined;
    this.#used.add(a);
    return a.value;
  }

  /** The element's text, trimmed, marked as used. */
  text(el: XmlElement): string {
    this.#textUsed.add(el);
    return el.text.trim();
  }

  /** The element's text as written (not trimmed), marked as used. */
  rawText(el: XmlElement): string {
    this.#textUsed.add(el);
    return el.text;
  }

  error(at: XmlAt, message: string, extra: { expected?: string; found?: string } = {}): void {
    this.problems.at(at, { message, ...extra });
  }

  /**
   * Something vmkit cannot express (yet): a problem, or with `lenient` a warning. The caller leaves it out
   * either way. Marks the element (or attribute) as used so it is reported once.
   */
  unsupported(at: XmlAt, message: string, extra: { expected?: string; found?: string } = {}): void {
    if ('el' in at && 'attr' in at) {
      const a = at.el.attrs.find((x) => x.name === at.attr);
      if (a !== undefined) this.#used.add(a);
    } else {
      this.useAll(atElement(at));
    }
    const init = { message: this.lenient ? `${message} (ignored: lenient import)` : message, ...extra };
    if (!this.lenient) this.problems.at(at, init);
    else if (listFull(this.warnings)) countOmitted(this.warnings);
    else this.warnings.push(this.problems.make(at, init));
  }

  /** `unsupported`, for something that makes the reader leave out a whole element (`whole`, default: the one `at` is in). */
  drop(at: XmlAt, message: string, extra: { expected?: string; found?: string } = {}, whole: XmlElement = atElement(at)): void {
    this.unsupported(at, message, extra);
    this.useAll(whole);
  }

  map(pointer: string, at: XmlAt): void {
    this.problems.map(pointer, at);
  }

  claim(pointer: string): void {
    this.problems.claim(pointer);
  }

  /** Reports every element, attribute and text under `root` that no reader looked at. */
  finish(root: XmlElement): void {
    const walk = (el: XmlElement): void => {
      if (!this.#used.has(el)) {
        const where = el.parent === undefined ? '' : ` in <${el.parent.name}>`;
        this.unsupported(el, `<${el.name}>${where} is not supported by vmkit; remove it`);
        return;
      }
      for (const a of el.attrs) {
        if (this.#used.has(a) || a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
        this.unsupported({ el, attr: a.name }, `The attribute ${a.name} of <${el.name}> is not supported by vmkit; remove it`, {
          found: `${a.name}=${JSON.stringify(a.value)}`,
        });
      }
      if (!this.#textUsed.has(el) && el.text.trim() !== '') {
        this.unsupported({ el, text: true }, `<${el.name}> takes no text here; remove it`, { found: JSON.stringify(el.text.trim().slice(0, 40)) });
      }
      for (const c of el.children) walk(c);
    };
    walk(root);
  }
}
