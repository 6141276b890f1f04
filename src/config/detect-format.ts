/** Which definition format a text is in. Pure. */
import { isMap, isScalar, type Document } from 'yaml';
import type { SourceFormat } from '../model/domain.js';
import { readYamlFast } from './yaml-fast.js';
import { parseYamlDocument } from './yaml-source.js';

const LAUNCHER_KEYS = new Set(['launcher', 'qemu']);

/** True when the first non-blank character is `<`. */
export function looksLikeXml(text: string): boolean {
  return text.replace(/^\uFEFF/, '').trimStart().startsWith('<');
}

/** The format of YAML data whose top level is a mapping with these keys. */
export function formatOfKeys(keys: Iterable<string>): 'qemu-launcher' | 'vmkit-yaml' {
  for (const k of keys) if (LAUNCHER_KEYS.has(k)) return 'qemu-launcher';
  return 'vmkit-yaml';
}

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
