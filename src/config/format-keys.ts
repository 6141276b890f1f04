/** What a definition's text or top-level keys say about its format, without reading it as YAML. Pure. */

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
