/**
 * One ajv setup for every definition schema: all errors, verbose (for messages), no coercion; and one for
 * the validity-only checks of the fast path (fast-validators.ts): first error stops, no messages. Pure.
 */
import { Ajv, type Options, type ValidateFunction } from 'ajv';

/** The options of every definition validator, compiled here or generated at build time (scripts/gen-validators.ts). */
// inlineRefs: false: a `$ref`'d subschema is a function of its own, compiled by V8 only when it first runs (schema-split.ts).
export const AJV_OPTIONS: Options = { allErrors: true, verbose: true, strict: true, coerceTypes: false, useDefaults: false, inlineRefs: false };

const ajv = new Ajv(AJV_OPTIONS);
const compiled = new WeakMap<object, ValidateFunction>();

/** Compiles a schema once and caches the validator. */
export function validatorFor(schema: object): ValidateFunction {
  let v = compiled.get(schema);
  if (v === undefined) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** The options of the validity-only validators: the same verdict, no error details. */
export const ACCEPT_AJV_OPTIONS: Options = { ...AJV_OPTIONS, allErrors: false, verbose: false, messages: false };

let acceptAjv: Ajv | undefined;
const accepting = new WeakMap<object, ValidateFunction>();

/** Compiles a schema once with ACCEPT_AJV_OPTIONS and caches the validator. */
export function acceptorFor(schema: object): ValidateFunction {
  let v = accepting.get(schema);
  if (v === undefined) {
    acceptAjv ??= new Ajv(ACCEPT_AJV_OPTIONS);
    v = acceptAjv.compile(schema);
    accepting.set(schema, v);
  }
  return v;
}
