/**
 * XML text -> a small element tree in which every element, attribute and text knows its offset in the text,
 * so problems can name a line and column. Well-formedness (and namespace binding) is checked by saxes; the
 * first error stops the parse. DOCTYPEs are refused: a domain definition never needs entity declarations.
 * Elements nested deeper than MAX_DEPTH (saxes resolves namespaces by walking every open element, and the
 * readers recurse) or more than MAX_XML_ELEMENTS of them stop the parse with a problem. Pure.
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { MAX_DEPTH, MAX_XML_ELEMENTS } from '../limits.js';

export interface XmlAttr {
  /** The name as written (`type`, `xmlns:qemu`). */
  readonly name: string;
  readonly local: string;
  /** Namespace URI; '' for unprefixed attributes. */
  readonly uri: string;
  readonly value: string;
  /** Offset of the attribute's name. */
  readonly offset: number;
}

export interface XmlElement {
  readonly name: string;
  readonly local: string;
  /** Namespace URI; '' when the element is in no namespace. */
  readonly uri: string;
  readonly attrs: readonly XmlAttr[];
  readonly children: readonly XmlElement[];
  readonly parent: XmlElement | undefined;
  /** Offset of the `<` that opens the element. */
  readonly offset: number;
  /** The element's own text (character data and CDATA directly inside it), concatenated. */
  readonly text: string;
  /** Offset of the first non-blank character of that text, if any. */
  readonly textOffset: number | undefined;
  /** XPath-like location: `/domain/devices/disk[2]/driver` (an index only where siblings share the name). */
  readonly path: string;
}

export type XmlParse =
  | { readonly ok: true; readonly root: XmlElement }
  | { readonly ok: false; readonly offset: number; readonly message: string; /** A size limit stopped the parse (the XML may be well-formed). */ readonly limit?: true };

interface Building {
  name: string;
  local: string;
  uri: string;
  attrs: XmlAttr[];
  children: Building[];
  parent: Building | undefined;
  offset: number;
  text: string;
  textOffset: number | undefined;
  path: string;
}

/** Attributes inside one start tag: name offset by name (the tag is already known to be well-formed). */
function attributeOffsets(text: string, start: number, end: number): Map<string, number> {
  const out = new Map<string, number>();
  const tag = text.slice(start, end);
  const re = /\s([^\s=/>]+)\s*=\s*(?:"[^"]*"|'[^']*')/g;
  for (let m = re.exec(tag); m !== null; m = re.exec(tag)) {
    out.set(m[1] as string, start + m.index + 1);
  }
  return out;
}

function firstNonBlank(raw: string): number {
  const m = /\S/.exec(raw);
  return m === null ? -1 : m.index;
}

/** Thrown from a handler to stop saxes at a limit (the failure is already recorded). */
const STOP = new Error('stop');

export function parseXml(text: string): XmlParse {
  const parser = new SaxesParser({ xmlns: true, position: true });
  let failure: { offset: number; message: string; limit?: true } | undefined;
  let root: Building | undefined;
  let current: Building | undefined;
  /** Offset just past the last piece of markup, where the next text run starts. */
  let markupEnd = 0;
  let tagStart = 0;
  /** Elements open around the current position, and elements seen. */
  let depth = 0;
  let elements = 0;

  const fail = (offset: number, message: string, limit?: true): void => {
    failure ??= { offset: Math.max(0, Math.min(offset, text.length)), message, ...(limit === undefined ? {} : { limit }) };
  };
  const addText = (raw: string, startOffset: number): void => {
    if (current === undefined) return;
    const i = firstNonBlank(raw);
    if (i >= 0 && current.textOffset === undefined) current.textOffset = startOffset + i;
    current.text += raw;
  };

  parser.on('error', (e) => {
    const message = e.message.replace(/^\d+:\d+: /, '');
    const pos = parser.position;
    const at = /^unclosed tag/.test(message) && current !== undefined ? current.offset : /clos(e|ing) tag/.test(message) ? text.lastIndexOf('</', pos) : pos - 1;
    fail(at < 0 ? pos : at, message);
  });
  parser.on('doctype', () => {
    fail(text.lastIndexOf('<!DOCTYPE', parser.position), 'A DOCTYPE is not allowed in a domain definition; remove it');
  });
  parser.on('opentagstart', (tag) => {
    // saxes reports the start of a tag once it has read the character after the name: the `<` is before that.
    tagStart = text.lastIndexOf(`<${tag.name}`, parser.position - 2);
    // Thrown out of saxes (caught below): the rest of the text is not read.
    if (depth >= MAX_DEPTH) {
      fail(tagStart, `<${tag.name}> is nested too deeply: more than ${MAX_DEPTH} levels of elements, the most a definition may have`, true);
      throw STOP;
    }
    if (++elements > MAX_XML_ELEMENTS) {
      fail(tagStart, `The document is too large: more than ${MAX_XML_ELEMENTS} elements, the most a definition may have`, true);
      throw STOP;
    }
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    const offsets = attributeOffsets(text, tagStart, parser.position);
    const attrs: XmlAttr[] = Object.values(tag.attributes).map((a) => ({
      name: a.name,
      local: a.local,
      uri: a.uri,
      value: a.value,
      offset: offsets.get(a.name) ?? tagStart,
    }));
    const el: Building = {
      name: tag.name,
      local: tag.local,
      uri: tag.uri,
      attrs,
      children: [],
      parent: current,
      offset: tagStart,
      text: '',
      textOffset: undefined,
      path: '',
    };
    if (current === undefined) root ??= el;
    else current.children.push(el);
    current = el;
    depth++;
    markupEnd = parser.position;
    if (tag.isSelfClosing) {
      current = el.parent;
      depth--;
    }
  });
  parser.on('closetag', (tag) => {
    if (!tag.isSelfClosing) {
      current = current?.parent;
      depth--;
    }
    markupEnd = parser.position;
  });
  parser.on('text', (t) => {
    addText(t, markupEnd);
    markupEnd = parser.position;
  });
  parser.on('cdata', (t) => {
    addText(t, text.lastIndexOf('<![CDATA[', parser.position) + '<![CDATA['.length);
    markupEnd = parser.position;
  });
  for (const ev of ['comment', 'processinginstruction', 'xmldecl'] as const) {
    parser.on(ev, () => {
      markupEnd = parser.position;
    });
  }

  try {
    parser.write(text);
    if (failure === undefined) parser.close();
  } catch (e) {
    if (e !== STOP) fail(parser.position, e instanceof Error ? e.message.replace(/^\d+:\d+: /, '') : String(e));
  }
  if (failure !== undefined) return { ok: false, ...failure };
  if (root === undefined) return { ok: false, offset: 0, message: 'The document has no root element' };
  root.path = `/${root.name}`;
  assignPaths(root);
  return { ok: true, root };
}

function assignPaths(el: Building): void {
  const counts = new Map<string, number>();
  for (const c of el.children) counts.set(c.name, (counts.get(c.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  for (const c of el.children) {
    const n = (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, n);
    c.path = `${el.path}/${c.name}${(counts.get(c.name) ?? 0) > 1 ? `[${n}]` : ''}`;
    assignPaths(c);
  }
}

/** 1-based line and column (UTF-16 units) of offsets in a text; `\r\n`, `\r` and `\n` end lines, as in XML. */
export class LineIndex {
  readonly #starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.#starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.#starts.push(i + 1);
      }
    }
  }

  pos(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (this.#starts[lo] as number) + 1 };
  }
}
