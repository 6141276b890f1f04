/** The format-independent entry points: detect the format, parse, report every problem, freeze. Pure. */
import { ConfigError, type Problem } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';
import { deepFreeze } from './deep-freeze.js';
import { detectFormat } from './detect-format.js';
import { formatOfKeys, looksLikeXml } from './format-keys.js';
import { markParsed } from './parsed-specs.js';
import type { FormatInput, FormatResult } from './format-result.js';
import { parseLauncher } from './launcher/parse-launcher.js';
import { parseLibvirtXml as parseLibvirtDomainXml } from './libvirt/parse-libvirt.js';
import { parseNative } from './native/parse-native.js';
import { parseNativeValue } from './native/parse-native-value.js';
import { limitProblems } from './problems.js';
import { readYamlFast } from './yaml-fast.js';
import { readYaml } from './yaml-source.js';

export interface DefinitionOptions {
  /** Source file name, used in problem locations and DomainSpec.source.file. */
  readonly file?: string | undefined;
  /** Directory that relative paths in the definition are resolved against. */
  readonly baseDir: string;
  /** libvirt XML: report unsupported elements as warnings and leave them out instead of rejecting them. */
  readonly lenient?: boolean | undefined;
  /** Receives each warning (lenient mode); without it warnings are dropped. */
  readonly onWarning?: ((warning: Problem) => void) | undefined;
}

/** libvirt domain XML (src/config/libvirt/). */
function parseLibvirtXml(input: FormatInput, opts: DefinitionOptions): FormatResult {
  const result = parseLibvirtDomainXml(input.text, { file: input.file, baseDir: input.baseDir, lenient: opts.lenient });
  if (opts.onWarning !== undefined) for (const w of limitProblems(result.warnings)) opts.onWarning(w);
  return result;
}

/**
 * Each text is read once. Plain native YAML that is valid takes the fast path (readYamlFast, no source
 * positions); anything else, and any definition with a problem, is read by the full YAML reader, so every
 * problem is reported with its position exactly as before.
 */
function analyze(text: string, opts: DefinitionOptions): FormatResult {
  const input: FormatInput = { text, file: opts.file, baseDir: opts.baseDir };
  if (looksLikeXml(text)) return parseLibvirtXml(input, opts);
  const fast = readYamlFast(text);
  if (fast !== undefined) {
    if (formatOfKeys(Object.keys(fast)) === 'qemu-launcher') return parseLauncher(input);
    return parseNativeValue(input, fast) ?? parseNative(input);
  }
  const src = readYaml(text, opts.file);
  switch (detectFormat(text, src.doc)) {
    case 'libvirt-xml':
      return parseLibvirtXml(input, opts);
    case 'qemu-launcher':
      return parseLauncher(input);
    case 'vmkit-yaml':
      return parseNative(input, src);
  }
}

/**
 * Every problem of a definition, in source order (at most MAX_PROBLEMS, then one that counts the rest);
 * [] when it is valid.
 */
export function validateDefinition(text: string, opts: DefinitionOptions): readonly Problem[] {
  return limitProblems(analyze(text, opts).problems);
}

export { parsedFromText } from './parsed-specs.js';

/** Parses a definition in any supported format into a deep-frozen DomainSpec; throws ConfigError listing every problem. */
export function parseDefinition(text: string, opts: DefinitionOptions): DomainSpec {
  const result = analyze(text, opts);
  if (result.problems.length > 0 || result.spec === undefined) {
    throw new ConfigError(result.problems.length > 0 ? limitProblems(result.problems) : [{ path: '', message: 'The definition could not be read' }]);
  }
  const spec = deepFreeze(result.spec);
  markParsed(spec, text);
  return spec;
}
