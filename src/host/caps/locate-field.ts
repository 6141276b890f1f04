/**
 * Positions of fields in a YAML definition (native or qemu-launcher), for problems found after parsing.
 * config/ keeps its source index private to parsing, so this re-reads the text with `yaml`. Pure.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { segments } from '../../config/pointer.js';
import type { FieldLocator } from './field-path.js';

export { displayPath, pointerOf, type FieldLocator, type FieldPosition } from './field-path.js';

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
