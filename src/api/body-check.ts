/**
 * A request body's verdict -> the API's one InvalidArgument error, listing every problem. Shared by the
 * tsc build's validateBody (schemas.ts, which compiles the schemas) and the bundle's, whose validators ajv
 * generated at build time (scripts/gen-validators.ts).
 */
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import { VmkitError } from '../errors.js';

/** The options of the request-body validators, compiled at run time or generated at build time. */
export const BODY_AJV_OPTIONS: Options = { allErrors: true, strict: true, coerceTypes: false, useDefaults: false, validateFormats: false };

/** Returns `body` when `validate` accepts it; throws InvalidArgument listing every problem. */
export function checkBody(validate: ValidateFunction, body: unknown): unknown {
  if (validate(body)) return body;
  const problems = (validate.errors ?? []).map(describe);
  throw new VmkitError('InvalidArgument', `Invalid request body: ${problems.join('; ')}`, { details: { problems } });
}

function describe(e: ErrorObject): string {
  const where = e.instancePath === '' ? 'body' : `body${e.instancePath.replaceAll('/', '.')}`;
  if (e.keyword === 'additionalProperties') return `${where}: unknown property '${String(e.params.additionalProperty)}'`;
  return `${where}: ${e.message ?? 'is invalid'}`;
}
