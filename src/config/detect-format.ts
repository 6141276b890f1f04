/** Which definition format a text is in. Pure. */
import { isMap, isScalar, type Document } from 'yaml';
import type { SourceFormat } from '../model/domain.js';
import { readYamlFast } from './yaml-fast.js';
import { parseYamlDocument } from './yaml-source.js';
import { formatOfKeys, looksLikeXml } from './format-keys.js';

export { formatOfKeys, looksLikeXml } from './format-keys.js';

/**
 * `libvirt-xml` when the first non-blank character is `<`; `qemu-launcher` when the YAML has a top-level
 * `launcher:` or `qemu:` key (native definitions never do); `vmkit-yaml` otherwise. `doc` is the text's
 * YAML document when the caller has already parsed it (it is then not parsed again).
 */
export function detectFormat(text: string, doc?: Document): SourceFormat {
  if (looksLikeXml(text)) return 'libvirt-xml';
  if (doc === undefined) {
    const fast = readYamlFast(text);
    if (fast !== undefined) return formatOfKeys(Object.keys(fast));
  }
  const d = doc ?? parseYamlDocument(text).doc;
  if (isMap(d.contents)) return formatOfKeys(d.contents.items.map((p) => (isScalar(p.key) ? String(p.key.value) : '')));
  // Unparseable or not a mapping: look for the keys at the start of a line.
  return /^(launcher|qemu)[ \t]*:/m.test(text) ? 'qemu-launcher' : 'vmkit-yaml';
}
