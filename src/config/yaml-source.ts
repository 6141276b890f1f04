/**
 * YAML text -> plain data plus a SourceIndex, collecting syntax errors, duplicate keys and unsupported
 * constructs as Problems with positions. Pure.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { child } from './pointer.js';
import { Problems } from './problems.js';
import { SourceIndex } from './source-index.js';

export interface YamlSource {
  readonly doc: Document;
  /** The document as plain data (mappings are objects with string keys); undefined when empty. */
  readonly value: unknown;
  readonly index: SourceIndex;
  /** Problems found while reading: syntax, duplicate keys, unsupported nodes. */
  readonly problems: Problems;
  /** True when the data cannot be checked further (syntax errors, or a document too large to expand). */
  readonly fatal: boolean;
}

/** Bound on nodes visited (alias expansion included), against "billion laughs" documents. */
const MAX_NODES = 100_000;

function range(node: unknown): readonly [number, number] | undefined {
  const r = (node as { range?: [number, number, number] } | null)?.range;
  return r === undefined ? undefined : [r[0], r[1]];
}

/** The text of a scalar as written (after unquoting): `0x10` stays "0x10", `1.0` stays "1.0". */
export function scalarText(node: Node): string {
  if (isScalar(node)) {
    if (typeof node.value === 'string') return node.value;
    return node.source ?? String(node.value);
  }
  return '';
}

export function readYaml(text: string, file?: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const index = new SourceIndex(lines);
  const placeholder = new Problems({ file, index });
  for (const e of [...doc.errors, ...doc.warnings]) {
    const m = /^(?:"([^"\n]*)"|'([^'\n]*)'|([^:\n,{}[\]]+?))[ \t]*:/.exec(text.slice(e.pos[0]));
    const key = m === null ? '' : (m[1] ?? m[2] ?? m[3] ?? '');
    const message =
      e.code === 'DUPLICATE_KEY'
        ? `Duplicate key${key === '' ? '' : ` \`${key}\``}: each key may appear once in a mapping`
        : `YAML: ${e.message}`;
    placeholder.addAt(index.offsetPos(e.pos[0]), '', { message });
  }
  if (doc.errors.length > 0) {
    return { doc, value: undefined, index, problems: placeholder, fatal: true };
  }

  let budget = MAX_NODES;
  const active = new Set<Node>();
  const structural: Array<{ pointer: string; message: string; at: 'key' | 'value' }> = [];

  const walk = (node: unknown, pointer: string): unknown => {
    if (--budget < 0) {
      if (budget === -1) structural.push({ pointer, message: `The document is too large (more than ${MAX_NODES} values, aliases expanded)`, at: 'value' });
      return null;
    }
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target === undefined || active.has(target)) {
        structural.push({ pointer, message: `Alias *${node.source} cannot be resolved (unknown or recursive anchor)`, at: 'value' });
        return null;
      }
      active.add(target);
      const v = walk(target, pointer);
      active.delete(target);
      return v;
    }
    if (isMap(node)) {
      const obj: Record<string, unknown> = {};
      for (const pair of node.items) {
        const k = pair.key as Node | null;
        if (k === null || !isScalar(k) || k.value === null) {
          const r = range(k) ?? range(pair.value);
          if (r !== undefined) index.set(child(pointer, '?'), { value: r });
          structural.push({ pointer: child(pointer, '?'), message: 'Mapping keys must be plain strings or numbers', at: 'value' });
          continue;
        }
        const key = scalarText(k);
        const p = child(pointer, key);
        const keyRange = range(k);
        const valueRange = range(pair.value) ?? keyRange;
        index.set(p, {
          ...(keyRange === undefined ? {} : { key: keyRange }),
          ...(valueRange === undefined ? {} : { value: valueRange }),
          node: (pair.value as Node | null) ?? null,
        });
        Object.defineProperty(obj, key, { value: walk(pair.value, p), enumerable: true, writable: true, configurable: true });
      }
      return obj;
    }
    if (isSeq(node)) {
      return node.items.map((item, i) => {
        const p = child(pointer, i);
        const r = range(item);
        index.set(p, { ...(r === undefined ? {} : { value: r }), node: (item as Node | null) ?? null });
        return walk(item, p);
      });
    }
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
      if (typeof v === 'number') {
        if (Number.isFinite(v)) return v;
        structural.push({ pointer, message: `${scalarText(node)} is not a finite number`, at: 'value' });
        return null;
      }
      structural.push({ pointer, message: `Values tagged ${node.tag ?? 'like this'} are not supported; write a plain string or number`, at: 'value' });
      return null;
    }
    structural.push({ pointer, message: 'Unsupported YAML node', at: 'value' });
    return null;
  };

  const r = range(doc.contents);
  index.set('', { ...(r === undefined ? {} : { value: r }), node: doc.contents as Node | null });
  const value = doc.contents === null ? undefined : walk(doc.contents, '');
  const problems = new Problems({ file, index, root: value });
  problems.list.push(...placeholder.list);
  for (const s of structural) problems.add(s.pointer, { message: s.message, at: s.at });
  return { doc, value, index, problems, fatal: budget < 0 };
}
