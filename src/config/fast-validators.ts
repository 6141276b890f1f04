/**
 * Validity alone, for the fast path of valid definitions (parse-fast.ts): the native schema without its
 * annotations (schema-annotations.ts), checked until the first error, with no messages. Same verdict as
 * validators.ts's nativeValidator() on every input; its generated code is a third smaller (the bundle
 * replaces this module with standalone code generated at build time, like validators.ts), so that `vmkit
 * run` of a valid definition compiles less. An invalid definition goes to the full parse, whose validator
 * reports every problem. Pure.
 */
import type { ValidateFunction } from 'ajv';
import { acceptorFor } from './ajv.js';
import { domainJsonSchema } from './native/schema.js';
import { withoutAnnotations } from './schema-annotations.js';
import { splitTopLevel } from './schema-split.js';

const NATIVE = withoutAnnotations(splitTopLevel(domainJsonSchema()));

/** True exactly when nativeValidator() accepts the value. */
export function nativeAccepts(): ValidateFunction {
  return acceptorFor(NATIVE);
}
