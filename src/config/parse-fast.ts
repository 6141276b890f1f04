/**
 * Plain native YAML that is valid, read without the YAML library, the libvirt XML reader or the problem
 * reporting (none of which a valid definition needs: they load, in parse-definition.ts, only for the rest).
 * Pure.
 */
import type { DomainSpec } from '../model/domain.js';
import { deepFreeze } from './deep-freeze.js';
import { formatOfKeys, looksLikeXml } from './format-keys.js';
import { parseNativeValue } from './native/parse-native-value.js';
import { markParsed } from './parsed-specs.js';
import { readYamlFast } from './yaml-fast.js';

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
