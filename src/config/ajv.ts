/** One ajv setup for every definition schema: all errors, verbose (for messages), no coercion. Pure. */
import { Ajv, type ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, coerceTypes: false, useDefaults: false });
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
