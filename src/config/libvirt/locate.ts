/**
 * Positions in a libvirt domain XML for native JSON pointers (`/machine/type`, `/nics/0/network`): the XML
 * is read again, as parseLibvirtXml() reads it, and each pointer leads to the element, attribute or text its
 * value came from (XmlProblems records that while reading), or to its closest recorded ancestor. For
 * problems found after parsing (host capabilities, networks, tuning); the text is read only when one of
 * them needs a position. Pure.
 */
import { XmlContext } from './xml-context.js';
import { readDomain } from './read-domain.js';
import { LineIndex, parseXml } from './xml-tree.js';

export interface XmlPosition {
  readonly file?: string;
  readonly line: number;
  readonly col: number;
  /** The XML path of the node (`/domain/os/type/@machine`). */
  readonly path: string;
}

/** A locator over `text`; XML that is not well-formed or not a <domain> yields one that always returns undefined. */
export function libvirtLocator(text: string, file?: string): (pointer: string) => XmlPosition | undefined {
  const xml = parseXml(text);
  if (!xml.ok || xml.root.name !== 'domain') return () => undefined;
  // Lenient: elements vmkit does not support are left out either way; the mapping is the same.
  const ctx = new XmlContext({ file, lines: new LineIndex(text), root: xml.root, lenient: true });
  readDomain(xml.root, ctx);
  return (pointer) => {
    const at = ctx.problems.locate(pointer);
    return at === undefined ? undefined : { ...(file === undefined ? {} : { file }), ...at };
  };
}
