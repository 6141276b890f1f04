/**
 * A schema made cheap to start validating with: each sizeable property of the root object moves to
 * `$defs` behind a `$ref`. With ajv's `inlineRefs: false` every such property then gets its own validation
 * function, and V8 compiles a function only when it first runs: a definition that has no `tuning:` or
 * `nics:` never pays for compiling their checks (the native schema's validator is one ~300 KB function
 * otherwise, ~20 ms to compile on the first definition a process reads). What is valid does not change;
 * only the schema paths of errors (`#/$defs/disks/...` instead of `#/properties/disks/...`). Pure.
 */

/** Properties whose schema's JSON text is shorter than this stay inline (a function call costs more than they do). */
const MIN_SPLIT_CHARS = 400;

export function splitTopLevel<T extends object>(schema: T): T {
  const s = schema as { properties?: Record<string, object>; $defs?: Record<string, object> };
  if (s.properties === undefined) return schema;
  const defs: Record<string, object> = { ...(s.$defs ?? {}) };
  const properties: Record<string, object> = {};
  for (const [key, sub] of Object.entries(s.properties)) {
    if (JSON.stringify(sub).length < MIN_SPLIT_CHARS || key in defs) {
      properties[key] = sub;
      continue;
    }
    defs[key] = sub;
    properties[key] = { $ref: `#/$defs/${key}` };
  }
  return { ...schema, $defs: defs, properties };
}
