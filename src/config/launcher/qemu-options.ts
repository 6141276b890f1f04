/**
 * qemu-launcher's `qemu:` list -> RawOption[]. Each item is a flag (`- nographic`) or a one-key mapping
 * `- name: value`, where the value is a string (raw QEMU syntax), a number, a list of fragments, or a mapping.
 * Fragments: strings are raw and joined with `,`; `key: value` entries become `key=value` with commas in the
 * value doubled. Pure.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { RawOption } from '../../model/domain.js';
import { managedOptionReason } from '../managed-options.js';
import { child } from '../pointer.js';
import type { Problems } from '../problems.js';
import type { SourceIndex } from '../source-index.js';
import { scalarText } from '../yaml-source.js';
import { escapeOptValue, joinFragments } from './qemu-opts.js';
import { guessedFormatProblem } from '../disk-format-guard.js';

export interface CompiledOption {
  readonly option: RawOption;
  /** Pointer of the list item (`/qemu/3`). */
  readonly pointer: string;
  /** Pointer of the value (`/qemu/3/smp`), or of the item for flags. */
  readonly valuePointer: string;
}

const OPTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const PROP_NAME = /^[^=,\s]+$/;

function deref(node: unknown, doc: Document): Node | null {
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? null;
  return node as Node;
}

export function compileQemuOptions(doc: Document, index: SourceIndex, problems: Problems, at = '/qemu'): CompiledOption[] {
  const list = deref(index.entry(at)?.node, doc);
  if (!isSeq(list)) return [];
  const out: CompiledOption[] = [];

  const checkName = (raw: string, pointer: string, where: 'key' | 'value'): string | undefined => {
    const name = raw.replace(/^--?/, '');
    if (!OPTION_NAME.test(name)) {
      problems.add(pointer, { message: 'Invalid QEMU option name', expected: 'an option name like `machine` or `nographic`', found: JSON.stringify(raw), at: where });
      return undefined;
    }
    const reason = managedOptionReason(name);
    if (reason !== undefined) {
      problems.add(pointer, { message: `-${name} is managed by vmkit: ${reason}; remove it`, found: `-${name}`, at: where });
      return undefined;
    }
    return name;
  };

  const pairFragments = (node: Node, pointer: string, name: string): string[] | undefined => {
    if (!isMap(node)) return undefined;
    const parts: string[] = [];
    let ok = true;
    for (const pair of node.items) {
      const k = deref(pair.key, doc);
      const key = k === null ? '' : scalarText(k);
      const p = child(pointer, key);
      if (!PROP_NAME.test(key)) {
        problems.add(p, { message: `Invalid property name in \`${name}\``, expected: 'a name without `=`, `,` or spaces', found: JSON.stringify(key), at: 'key' });
        ok = false;
        continue;
      }
      const v = deref(pair.value, doc);
      if (v !== null && !isScalar(v)) {
        problems.add(p, { message: `\`${name}\` property \`${key}\` must be a string or number, not ${isSeq(v) ? 'a list' : 'a mapping'}` });
        ok = false;
        continue;
      }
      if (v === null || v.value === null) {
        problems.add(p, { message: `\`${name}\` property \`${key}\` has no value; write \`${key}\` as a plain list item for a bare flag, or give a value`, at: 'key' });
        ok = false;
        continue;
      }
      parts.push(`${key}=${escapeOptValue(scalarText(v))}`);
    }
    return ok ? parts : undefined;
  };

  const compileValue = (node: Node | null, pointer: string, name: string): string | undefined => {
    if (node === null || (isScalar(node) && node.value === null)) {
      problems.add(pointer, { message: `\`${name}\` has no value; write \`- ${name}\` for a flag, or give it a value`, at: 'key' });
      return undefined;
    }
    if (isScalar(node)) return scalarText(node);
    if (isMap(node)) {
      const parts = pairFragments(node, pointer, name);
      return parts === undefined ? undefined : joinFragments(parts);
    }
    if (!isSeq(node)) return undefined;
    if (node.items.length === 0) {
      problems.add(pointer, { message: `\`${name}\` has an empty list; give at least one value, or write \`- ${name}\` for a flag` });
      return undefined;
    }
    const fragments: string[] = [];
    let ok = true;
    node.items.forEach((raw, j) => {
      const item = deref(raw, doc);
      const p = child(pointer, j);
      if (item !== null && isMap(item)) {
        const parts = pairFragments(item, p, name);
        if (parts === undefined) ok = false;
        else fragments.push(...parts);
      } else if (item !== null && isScalar(item) && item.value !== null) {
        fragments.push(scalarText(item));
      } else {
        problems.add(p, { message: `Each part of \`${name}\` must be a string, a number or \`key: value\`; nested lists and empty items are not allowed` });
        ok = false;
      }
    });
    return ok ? joinFragments(fragments) : undefined;
  };

  list.items.forEach((raw, i) => {
    const item = deref(raw, doc);
    const p = child(at, i);
    if (item !== null && isScalar(item) && typeof item.value === 'string') {
      const name = checkName(item.value, p, 'value');
      if (name !== undefined) out.push({ option: { name }, pointer: p, valuePointer: p });
      return;
    }
    if (item !== null && isMap(item)) {
      if (item.items.length !== 1) {
        problems.add(p, {
          message: `Each item of \`qemu\` is one option, \`- name: value\` or a flag \`- name\`, but this one has ${item.items.length} keys (check the indentation and the \`-\` of every option)`,
        });
        return;
      }
      const pair = item.items[0];
      const k = deref(pair?.key, doc);
      const key = k === null ? '' : scalarText(k);
      const vp = child(p, key);
      const name = checkName(key, vp, 'key');
      if (name === undefined) return;
      const value = compileValue(deref(pair?.value, doc), vp, name);
      if (value === undefined) return;
      const unsafe = guessedFormatProblem(name, value);
      if (unsafe !== undefined) {
        problems.add(vp, unsafe);
        return;
      }
      out.push({ option: { name, value }, pointer: p, valuePointer: vp });
      return;
    }
    problems.add(p, {
      message: 'Each item of `qemu` must be an option `- name: value` or a flag `- name`',
      expected: 'a string or a one-key mapping',
      found: item === null ? 'nothing' : isSeq(item) ? 'a list' : JSON.stringify(isScalar(item) ? scalarText(item) : ''),
    });
  });
  return out;
}
