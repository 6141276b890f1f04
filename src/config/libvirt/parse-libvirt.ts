/**
 * libvirt domain XML -> DomainSpec: XML (with positions) -> draft in the native shape -> the native schema and
 * resolvers (the same defaults, checks and messages as vmkit YAML) -> DomainSpec with `source.format`
 * `libvirt-xml`. Every problem names the XML path and line:col. Pure.
 */
import type { Problem } from '../../errors.js';
import type { DomainInputT } from '../native/schema.js';
import { NATIVE_HINTS } from '../native/parse-native.js';
import { resolveDomain } from '../native/resolve-domain.js';
import { nativeValidator } from '../validators.js';
import type { FormatResult } from '../format-result.js';
import { Problems } from '../problems.js';
import { pruneInvalid } from '../prune.js';
import { ResolveContext, type Loose } from '../resolve-context.js';
import { reportSchemaErrors } from '../schema-problems.js';
import { readDomain } from './read-domain.js';
import { XmlContext } from './xml-context.js';
import { LineIndex, parseXml } from './xml-tree.js';

export interface LibvirtParseOptions {
  /** Source file name, for problem locations and DomainSpec.source.file. */
  readonly file?: string | undefined;
  /** Directory that relative paths are resolved against. */
  readonly baseDir: string;
  /**
   * Report elements and attributes vmkit does not support as `warnings` and leave them out, instead of as
   * problems. Malformed XML and invalid values are problems either way.
   */
  readonly lenient?: boolean | undefined;
}

export interface LibvirtParseResult extends FormatResult {
  /** With `lenient`: what was left out, each with its path and position. Empty otherwise. */
  readonly warnings: readonly Problem[];
}

export function parseLibvirtXml(text: string, opts: LibvirtParseOptions): LibvirtParseResult {
  const lines = new LineIndex(text);
  const xml = parseXml(text);
  if (!xml.ok) {
    const p = new Problems({ file: opts.file });
    p.addAt(lines.pos(xml.offset), '', { message: xml.limit === true ? xml.message : `The XML is not well-formed: ${xml.message}` });
    return { problems: p.list, warnings: [] };
  }
  const root = xml.root;
  const ctx = new XmlContext({ file: opts.file, lines, root, lenient: opts.lenient === true });
  if (root.name !== 'domain') {
    ctx.error(root, `The root element is <${root.name}>, but a libvirt domain definition is a <domain>`, { expected: '<domain>', found: `<${root.name}>` });
    return { problems: ctx.problems.list, warnings: [] };
  }
  // A JSON copy drops the keys that readers left undefined.
  const draft = JSON.parse(JSON.stringify(readDomain(root, ctx))) as unknown;
  const validate = nativeValidator();
  const invalid = validate(draft) ? [] : reportSchemaErrors(validate.errors ?? [], ctx.problems, NATIVE_HINTS);
  const pruned = pruneInvalid(draft, invalid);
  if (pruned === null || typeof pruned !== 'object') return { problems: ctx.problems.list, warnings: ctx.warnings };
  const rctx = new ResolveContext(ctx.problems, opts.baseDir, invalid);
  const spec = resolveDomain(pruned as Loose<DomainInputT>, rctx, opts.file);
  return {
    spec: { ...spec, source: { format: 'libvirt-xml', ...(opts.file === undefined ? {} : { file: opts.file }) } },
    problems: ctx.problems.list,
    warnings: ctx.warnings,
  };
}
