/**
 * A JSON Schema without its annotations (description, title, examples, $comment, default): what is valid
 * does not change, and a validator generated from it is smaller (the native schema's descriptions are a
 * sixth of its validator's code). Only keywords in schema position go: a property *named* `description`
 * stays, and `enum`/`const` values are copied as they are. Symbol-keyed markers (TypeBox's) are dropped.
 * Pure.
 */

const ANNOTATIONS = new Set(['description', 'title', 'examples', '$comment', 'default', 'readOnly', 'writeOnly', 'deprecated']);
/** Keywords whose value is one schema. */
const ONE = new Set(['additionalProperties', 'items', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'unevaluatedProperties', 'unevaluatedItems', 'additionalItems']);
/** Keywords whose value is an array of schemas (`items` too, in its tuple form). */
const MANY = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items']);
/** Keywords whose value maps names to schemas. */
const MAP = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);

export function withoutAnnotations<T>(schema: T): T {
  return strip(schema) as T;
}

function strip(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(key)) continue;
    if (MANY.has(key) && Array.isArray(value)) out[key] = value.map(strip);
    else if (ONE.has(key)) out[key] = strip(value);
    else if (MAP.has(key) && value !== null && typeof value === 'object') out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strip(v)]));
    else out[key] = value;
  }
  return out;
}
