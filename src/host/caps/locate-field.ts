/**
 * Positions of fields in a YAML definition (native or qemu-launcher), for problems found after parsing.
 * config/ keeps its source index private to parsing, so this re-reads the text with `yaml`. Pure.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

export interface FieldPosition {
  readonly file?: string;
  readonly line: number;
  readonly col: number;
  /**
   * Where that is in the file's own terms, when it differs from the field's native path: the XML path of a
   * libvirt domain (`/domain/os/type/@machine`), the `qemu:` item of a qemu-launcher file (`qemu[1]`).
   */
  readonly path?: string;
}

/** Maps a JSON pointer (`/machine/type`) to the position of that value, or of its closest written ancestor. */
export type FieldLocator = (pointer: string) => FieldPosition | undefined;

function segments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function deref(node: unknown, doc: Document): Node | undefined {
  if (node === null || node === undefined) return undefined;
  if (isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? undefined;
  return node as Node;
}

function start(node: Node | undefined): number | undefined {
  const r = (node as { range?: [number, number, number] } | undefined)?.range;
  return r?.[0];
}

/**
 * A locator over `text`. A pointer that leads nowhere in the text (a default value) resolves to its
 * deepest ancestor that is written, except the document itself: then it returns undefined.
 * Text that is not YAML yields a locator that always returns undefined.
 */
export function definitionLocator(text: string, file?: string): FieldLocator {
  const lines = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  } catch {
    return () => undefined;
  }
  if (doc.errors.length > 0) return () => undefined;
  return (pointer) => {
    let node = deref(doc.contents, doc);
    let offset: number | undefined;
    for (const seg of segments(pointer)) {
      let next: Node | undefined;
      let keyNode: Node | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => {
          const k = deref(p.key, doc);
          return k !== undefined && isScalar(k) && String(k.value) === seg;
        });
        keyNode = deref(pair?.key, doc);
        next = deref(pair?.value, doc);
      } else if (isSeq(node) && /^\d+$/.test(seg)) {
        next = deref(node.items[Number(seg)], doc);
      }
      const at = start(next) ?? start(keyNode);
      if (at === undefined) break;
      offset = at;
      node = next;
      if (next === undefined) break;
    }
    if (offset === undefined) return undefined;
    const p = lines.linePos(offset);
    return { ...(file === undefined ? {} : { file }), line: p.line, col: p.col };
  };
}

/** `/disks/0/bus` -> `disks[0].bus` (the display form problems use). */
export function displayPath(pointer: string): string {
  let out = '';
  for (const seg of segments(pointer)) {
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else out += /^[A-Za-z0-9_-]+$/.test(seg) ? `${out === '' ? '' : '.'}${seg}` : `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** `disks[0].bus` -> `/disks/0/bus`; the inverse of displayPath for plain keys. */
export function pointerOf(path: string): string {
  let out = '';
  const re = /\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\.?([^.[\]]+)/g;
  for (const m of path.matchAll(re)) {
    const seg = m[1] ?? (m[2] === undefined ? m[3] : (JSON.parse(`"${m[2]}"`) as string)) ?? '';
    out += `/${seg.replace(/~/g, '~0').replace(/\//g, '~1')}`;
  }
  return out;
}
