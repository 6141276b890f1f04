/**
 * Native vmkit YAML's fast path, apart from the YAML reader: data read by yaml-fast.ts (no positions) ->
 * schema check -> defaults and semantic checks. It loads no YAML library, so that a valid definition costs
 * only what validating it costs (parse-fast.ts). Pure.
 */
import type { FormatInput, FormatResult } from '../format-result.js';
import { Problems } from '../problems.js';
import { ResolveContext, type Loose } from '../resolve-context.js';
import { nativeAccepts } from '../fast-validators.js';
import { resolveDomain } from './resolve-domain.js';
import type { DomainInputT } from './schema.js';

/**
 * The fast path for valid definitions: `value` is the text's data as read by readYamlFast (no positions).
 * Returns the result when the definition has no problem; `undefined` when it has any, and the caller then
 * parses the text with parseNative to report every problem with its position.
 */
export function parseNativeValue(input: FormatInput, value: Record<string, unknown>): FormatResult | undefined {
  const validate = nativeAccepts();
  if (!validate(value)) return undefined;
  const problems = new Problems({ file: input.file, root: value });
  const spec = resolveDomain(value as Loose<DomainInputT>, new ResolveContext(problems, input.baseDir, []), input.file);
  return problems.list.length === 0 ? { spec, problems: [] } : undefined;
}
