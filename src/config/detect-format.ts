/** Which definition format a text is in. Pure. */
import { isMap, isScalar, parseDocument } from 'yaml';
import type { SourceFormat } from '../model/domain.js';

const LAUNCHER_KEYS = new Set(['launcher', 'qemu']);

/**
 * `libvirt-xml` when the first non-blank character is `<`; `qemu-launcher` when the YAML has a top-level
 * `launcher:` or `qemu:` key (native definitions never do); `vmkit-yaml` otherwise.
 */
export function detectFormat(text: string): SourceFormat {
  const body = text.replace(/^\uFEFF/, '').trimStart();
  if (body.startsWith('<')) return 'libvirt-xml';
  const doc = parseDocument(text, { prettyErrors: false });
  if (isMap(doc.contents)) {
    const keys = doc.contents.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ''));
    return keys.some((k) => LAUNCHER_KEYS.has(k)) ? 'qemu-launcher' : 'vmkit-yaml';
  }
  // Unparseable or not a mapping: look for the keys at the start of a line.
  return /^(launcher|qemu)[ \t]*:/m.test(text) ? 'qemu-launcher' : 'vmkit-yaml';
}
