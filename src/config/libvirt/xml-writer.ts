/**
 * A minimal XML writer: elements with attributes in the order given, text, two-space indentation, single
 * quotes as libvirt writes them, and every attribute value and text escaped. Pure.
 */
import { VmkitError } from '../../errors.js';

export interface XmlNode {
  readonly name: string;
  readonly attrs: readonly (readonly [string, string | number | undefined])[];
  readonly children: readonly XmlNode[];
  readonly text?: string;
}

/** An element; `undefined` attribute values and children are left out. */
export function el(
  name: string,
  attrs: readonly (readonly [string, string | number | undefined])[] = [],
  content: readonly (XmlNode | undefined | false)[] | string = [],
): XmlNode {
  if (typeof content === 'string') return { name, attrs, children: [], text: content };
  return { name, attrs, children: content.filter((c): c is XmlNode => c !== undefined && c !== false) };
}

// XML 1.0 Char: tab, newline, carriage return, and U+0020 upwards except surrogates (paired ones are fine) and U+FFFE/U+FFFF.
const INVALID_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkChars(v: string, where: string): void {
  if (INVALID_CHAR.test(v)) {
    throw new VmkitError('InvalidArgument', `Cannot write ${where} as XML: ${JSON.stringify(v)} contains a control character XML cannot hold; remove it`, {
      details: { value: v },
    });
  }
}

export function escapeText(v: string): string {
  checkChars(v, 'a text');
  return v.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('\r', '&#13;');
}

export function escapeAttr(v: string): string {
  checkChars(v, 'an attribute value');
  return v
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll("'", '&apos;')
    .replaceAll('"', '&quot;')
    .replaceAll('\t', '&#9;')
    .replaceAll('\n', '&#10;')
    .replaceAll('\r', '&#13;');
}

export function serialize(node: XmlNode, indent = ''): string {
  const attrs = node.attrs
    .filter((a): a is readonly [string, string | number] => a[1] !== undefined)
    .map(([k, v]) => ` ${k}='${escapeAttr(String(v))}'`)
    .join('');
  if (node.text !== undefined) return `${indent}<${node.name}${attrs}>${escapeText(node.text)}</${node.name}>\n`;
  if (node.children.length === 0) return `${indent}<${node.name}${attrs}/>\n`;
  const inner = node.children.map((c) => serialize(c, `${indent}  `)).join('');
  return `${indent}<${node.name}${attrs}>\n${inner}${indent}</${node.name}>\n`;
}
