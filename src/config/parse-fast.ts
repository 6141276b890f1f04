/**
 * Plain native YAML that is valid, read without the YAML library, the libvirt XML reader or the problem
 * reporting (none of which a valid definition needs: they load, in parse-definition.ts, only for the rest).
 * Also the record of the specs this process parsed, by text. Pure.
 */
import type { DomainSpec } from '../model/domain.js';
import { deepFreeze } from './deep-freeze.js';
import { formatOfKeys, looksLikeXml } from './format-keys.js';
import { parseNativeValue } from './native/parse-native-value.js';
import { readYamlFast } from './yaml-fast.js';

/** The text each spec this process parsed was parsed from (specs are deep-frozen: they cannot have changed since). */
const parsedFrom = new WeakMap<object, string>();

/** Records that `spec` (deep-frozen) is what `text` defines. */
export function markParsed(spec: DomainSpec, text: string): void {
  parsedFrom.set(spec, text);
}

/**
 * True when `spec` is a spec this module or parse-definition.ts returned for exactly `text` (the same
 * object, deep-frozen): it is what that text defines, with no need to check it again.
 */
export function parsedFromText(spec: unknown, text: string): boolean {
  return typeof spec === 'object' && spec !== null && parsedFrom.get(spec) === text;
}

/**
 * The fast path alone: the deep-frozen spec when `text` is plain native YAML (see readYamlFast) without
 * any problem, else `undefined` (parseDefinition then gives the spec or every problem). Cheap enough to
 * run on an event loop for definitions of ordinary size.
 */
export function parseDefinitionFast(text: string, opts: { readonly file?: string | undefined; readonly baseDir: string }): DomainSpec | undefined {
  if (looksLikeXml(text)) return undefined;
  const fast = readYamlFast(text);
  if (fast === undefined || formatOfKeys(Object.keys(fast)) !== 'vmkit-yaml') return undefined;
  const result = parseNativeValue({ text, file: opts.file, baseDir: opts.baseDir }, fast);
  if (result?.spec === undefined) return undefined;
  const spec = deepFreeze(result.spec);
  markParsed(spec, text);
  return spec;
}
