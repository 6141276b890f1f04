/**
 * YAML text -> plain data plus a SourceIndex, collecting syntax errors, duplicate keys and unsupported
 * constructs as Problems with positions. Reading takes time in proportion to the text: nesting deeper than
 * MAX_DEPTH stops the parse (the YAML library composes recursively), duplicate keys are found with a set
 * (the library's own check compares each key with every earlier one), and at most MAX_YAML_NODES values are
 * read. Pure.
 */
import { Composer, Document, isAlias, isMap, isPair, isScalar, isSeq, Lexer, LineCounter, Parser, YAMLParseError, type Alias, type Node, type Scalar } from 'yaml';
import type { CST } from 'yaml';
import { MAX_DEPTH, MAX_YAML_NODES } from './limits.js';
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

/** The parser's stack holds the document, the node being read and its scalar besides the collections. */
const STACK_SLACK = 3;

export interface BoundedDocument {
  readonly doc: Document;
  /** Offset at which the nesting went past MAX_DEPTH (the document is then empty). */
  readonly tooDeepAt?: number;
}

/**
 * `parseDocument` with a bound on nesting: the parse stops as soon as the parser's stack is deeper than
 * MAX_DEPTH, before the recursive composer sees it. Keys are not checked for duplicates here (see readYaml).
 */
export function parseYamlDocument(text: string, lines?: LineCounter): BoundedDocument {
  const parser = new Parser(lines?.addNewLine);
  lines?.addNewLine(0);
  const tokens: CST.Token[] = [];
  for (const lexeme of new Lexer().lex(text)) {
    for (const t of parser.next(lexeme)) tokens.push(t);
    if (parser.stack.length > MAX_DEPTH + STACK_SLACK) return { doc: new Document(), tooDeepAt: Math.min(parser.offset, text.length) };
  }
  for (const t of parser.end()) tokens.push(t);
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false });
  let doc: Document | undefined;
  for (const d of composer.compose(tokens, true, text.length)) {
    if (doc === undefined) {
      doc = d;
      continue;
    }
    doc.errors.push(new YAMLParseError([d.range[0], d.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; a definition is one document'));
    break;
  }
  return { doc: doc ?? new Document() };
}

/**
 * What makes two keys of one mapping the same key: the same text (they would be one property), or the
 * same value (`1`, `01` and `0x1` are all the number 1, as the YAML library compares keys).
 */
function keyIdentities(k: Scalar, text: string): [string, string] {
  const v = k.value;
  return [`t:${text}`, `${typeof v}:${String(v)}`];
}

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
  const { doc, tooDeepAt } = parseYamlDocument(text, lines);
  const index = new SourceIndex(lines);
  const placeholder = new Problems({ file, index });
  if (tooDeepAt !== undefined) {
    placeholder.addAt(index.offsetPos(tooDeepAt), '', { message: tooDeepMessage() });
    return { doc, value: undefined, index, problems: placeholder, fatal: true };
  }
  for (const e of [...doc.errors, ...doc.warnings]) placeholder.addAt(index.offsetPos(e.pos[0]), '', { message: `YAML: ${e.message}` });
  if (doc.errors.length > 0) {
    return { doc, value: undefined, index, problems: placeholder, fatal: true };
  }

  let budget = MAX_YAML_NODES;
  let duplicates = false;
  let tooDeep = false;
  const active = new Set<Node>();
  const structural: Array<{ pointer: string; message: string; at: 'key' | 'value' }> = [];

  const aliasTargets = resolveAliases(doc.contents);
  const walk = (node: unknown, pointer: string, depth: number): unknown => {
    if (--budget < 0) {
      if (budget === -1) structural.push({ pointer, message: `The document is too large (more than ${MAX_YAML_NODES} values, aliases expanded); a definition is far smaller`, at: 'value' });
      return null;
    }
    if (node === null || node === undefined) return null;
    if (depth > MAX_DEPTH && (isAlias(node) || isMap(node) || isSeq(node))) {
      if (!tooDeep) structural.push({ pointer, message: tooDeepMessage(), at: 'value' });
      tooDeep = true;
      return null;
    }
    if (isAlias(node)) {
      const target = aliasTargets.get(node);
      if (target === undefined || active.has(target)) {
        structural.push({ pointer, message: `Alias *${node.source} cannot be resolved (unknown or recursive anchor)`, at: 'value' });
        return null;
      }
      active.add(target);
      const v = walk(target, pointer, depth);
      active.delete(target);
      return v;
    }
    if (isMap(node)) {
      const obj: Record<string, unknown> = {};
      const seen = new Set<string>();
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
        const ids = keyIdentities(k, key);
        if (ids.some((id) => seen.has(id))) {
          // Reported at the second occurrence, as the YAML library does; the document is not read further.
          duplicates = true;
          const at = keyRange?.[0] ?? range(node)?.[0] ?? 0;
          placeholder.addAt(index.offsetPos(at), '', { message: `Duplicate key \`${key}\`: each key may appear once in a mapping` });
          continue;
        }
        for (const id of ids) seen.add(id);
        const valueRange = range(pair.value) ?? keyRange;
        index.set(p, {
          ...(keyRange === undefined ? {} : { key: keyRange }),
          ...(valueRange === undefined ? {} : { value: valueRange }),
          node: (pair.value as Node | null) ?? null,
        });
        Object.defineProperty(obj, key, { value: walk(pair.value, p, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return obj;
    }
    if (isSeq(node)) {
      return node.items.map((item, i) => {
        const p = child(pointer, i);
        const r = range(item);
        index.set(p, { ...(r === undefined ? {} : { value: r }), node: (item as Node | null) ?? null });
        return walk(item, p, depth + 1);
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
  // An empty document still has a place: problems about the whole of it are reported at 1:1.
  index.set('', { value: r ?? [0, 0], node: doc.contents as Node | null });
  const value = doc.contents === null ? undefined : walk(doc.contents, '', 1);
  const problems = new Problems({ file, index, root: value });
  problems.list.push(...placeholder.list);
  for (const s of structural) problems.add(s.pointer, { message: s.message, at: s.at });
  const fatal = budget < 0 || duplicates || tooDeep;
  return { doc, value: fatal && duplicates ? undefined : value, index, problems, fatal };
}

/**
 * The node each alias stands for: the last node before it (in document order) with its anchor, as
 * `Alias.resolve` finds it, found for every alias in one pass (`Alias.resolve` walks the whole document
 * for each alias).
 */
function resolveAliases(root: unknown): Map<Alias, Node | undefined> {
  const targets = new Map<Alias, Node | undefined>();
  const anchors = new Map<string, Node>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const n = stack.pop();
    if (isAlias(n)) {
      targets.set(n, anchors.get(n.source));
      continue;
    }
    if (isPair(n)) {
      stack.push(n.value, n.key);
      continue;
    }
    if (!isScalar(n) && !isMap(n) && !isSeq(n)) continue;
    if (n.anchor !== undefined) anchors.set(n.anchor, n);
    if (isMap(n) || isSeq(n)) for (let i = n.items.length - 1; i >= 0; i--) stack.push(n.items[i]);
  }
  return targets;
}

function tooDeepMessage(): string {
  return `The document is nested too deeply: more than ${MAX_DEPTH} levels of mappings and lists, the most a definition may have`;
}
