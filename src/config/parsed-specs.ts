/**
 * The record of the specs this process parsed, by text: a spec the parser made from a text is that text's
 * spec, with no need to check it again (vmkit run hands the driver both). Apart from the parsers, so that
 * asking costs no parser. Pure.
 */
import type { DomainSpec } from '../model/domain.js';

/** The text each spec this process parsed was parsed from (specs are deep-frozen: they cannot have changed since). */
const parsedFrom = new WeakMap<object, string>();

/** Records that `spec` (deep-frozen) is what `text` defines. */
export function markParsed(spec: DomainSpec, text: string): void {
  parsedFrom.set(spec, text);
}

/**
 * True when `spec` is a spec parse-fast.ts or parse-definition.ts returned for exactly `text` (the same
 * object, deep-frozen): it is what that text defines, with no need to check it again.
 */
export function parsedFromText(spec: unknown, text: string): boolean {
  return typeof spec === 'object' && spec !== null && parsedFrom.get(spec) === text;
}
