/**
 * ajv errors -> Problems: picks the intended branch of unions, names unknown keys with a did-you-mean,
 * phrases expected/found, and returns which values were invalid so that the resolver can skip them. Pure.
 */
import type { ErrorObject } from 'ajv';
import { patternText } from './patterns.js';
import { child, describeValue, typeName } from './pointer.js';
import type { Problems } from './problems.js';
import { closest } from './suggest.js';

export interface SchemaProblemHints {
  /** Extra sentence for a missing required key, by key name. */
  readonly required?: Readonly<Record<string, string>>;
  /** Message for an enum value that is known but deliberately unsupported, by value. */
  readonly rejectedValues?: Readonly<Record<string, string>>;
}

type Schema = Record<string, unknown>;

function asSchema(v: unknown): Schema {
  return v !== null && typeof v === 'object' ? (v as Schema) : {};
}

function list(items: readonly string[], conj = 'or'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conj} ${items[items.length - 1]}`;
}

/** What a value matching `schema` looks like, in words. */
export function describeSchema(schemaIn: unknown): string {
  const s = asSchema(schemaIn);
  if ('const' in s) return `\`${String(s.const)}\``;
  if (Array.isArray(s.enum)) return list(s.enum.map((v) => `\`${String(v)}\``));
  if (Array.isArray(s.anyOf)) {
    const parts = [...new Set(s.anyOf.map(describeSchema))];
    return list(parts);
  }
  switch (s.type) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'boolean':
      return 'true or false';
    case 'string': {
      if (typeof s.pattern === 'string') return patternText(s.pattern) ?? `a string matching ${s.pattern}`;
      return s.minLength === 1 ? 'a non-empty string' : 'a string';
    }
    case 'integer':
    case 'number': {
      const what = s.type === 'integer' ? 'an integer' : 'a number';
      const min = typeof s.minimum === 'number' ? s.minimum : undefined;
      const max = typeof s.maximum === 'number' ? s.maximum : undefined;
      if (min !== undefined && max !== undefined) return `${what} from ${min} to ${max}`;
      if (min !== undefined) return `${what} >= ${min}`;
      if (max !== undefined) return `${what} <= ${max}`;
      return what;
    }
    default:
      return 'a value';
  }
}

interface Mismatch {
  readonly keyword: '$mismatch';
  readonly instancePath: string;
  /** The value no branch of the union fits: invalid as a whole (the problem may name its discriminator key). */
  readonly unionPath: string;
  readonly expected: string;
  readonly data: unknown;
  /** Allowed values of a discriminator key, for a did-you-mean. */
  readonly allowed?: readonly string[];
}

type Issue = ErrorObject | Mismatch;

function isAjv(e: Issue): e is ErrorObject {
  return 'schemaPath' in e;
}

function branchIndex(e: ErrorObject, prefix: string): number {
  return Number(e.schemaPath.slice(prefix.length).split('/')[0]);
}

/** True when the branch cannot be what the author meant: wrong type, or a wrong discriminator (`type: tap`). */
function branchMismatched(errs: readonly ErrorObject[], at: string): boolean {
  return errs.some(
    (e) =>
      (e.instancePath === at && (e.keyword === 'type' || e.keyword === 'const' || e.keyword === 'enum')) ||
      (e.keyword === 'const' && e.instancePath.startsWith(`${at}/`) && !e.instancePath.slice(at.length + 1).includes('/')),
  );
}

/** The unions (failed `anyOf`s) an error lies inside: its schema path runs through theirs, its value lies in theirs. */
function containingUnions(e: ErrorObject, unions: ReadonlyMap<string, ErrorObject>): ErrorObject[] {
  const out: ErrorObject[] = [];
  const sp = e.schemaPath;
  for (let i = sp.indexOf('/anyOf/'); i >= 0; i = sp.indexOf('/anyOf/', i + 1)) {
    const unionPath = sp.slice(0, i + '/anyOf'.length);
    // The union's value is the error's value or one around it.
    for (let ip = e.instancePath; ; ip = ip.slice(0, Math.max(0, ip.lastIndexOf('/')))) {
      const u = unions.get(`${unionPath}\0${ip}`);
      if (u !== undefined && u !== e) out.push(u);
      if (ip === '') break;
    }
  }
  return out;
}

/**
 * Replaces every failed `anyOf` by the errors of the branch the author most likely meant. Unions are
 * settled outermost first; the errors of the branches not chosen go, with the unions inside them. Each
 * error is filed under the unions containing it once, so this takes time in proportion to the errors
 * (times the nesting of unions), not to their square.
 */
function resolveUnions(errors: readonly ErrorObject[]): Issue[] {
  const unionList = errors.filter((e) => e.keyword === 'anyOf');
  if (unionList.length === 0) return [...errors];
  const unions = new Map<string, ErrorObject>();
  for (const u of unionList) if (!unions.has(`${u.schemaPath}\0${u.instancePath}`)) unions.set(`${u.schemaPath}\0${u.instancePath}`, u);
  const inside = new Map<ErrorObject, ErrorObject[]>();
  for (const e of errors) {
    for (const u of containingUnions(e, unions)) {
      let list = inside.get(u);
      if (list === undefined) inside.set(u, (list = []));
      list.push(e);
    }
  }
  const alive = new Set<Issue>(errors);
  const added: Mismatch[] = [];
  for (const u of [...unionList].sort((a, b) => a.schemaPath.length - b.schemaPath.length)) {
    if (!alive.has(u)) continue;
    const prefix = `${u.schemaPath}/`;
    const within = (inside.get(u) ?? []).filter((e) => alive.has(e));
    const branchCount = Array.isArray(u.schema) ? u.schema.length : 0;
    const byBranch: ErrorObject[][] = Array.from({ length: branchCount }, () => []);
    for (const e of within) byBranch[branchIndex(e, prefix)]?.push(e);
    let best = -1;
    for (let i = 0; i < branchCount; i++) {
      const errs = byBranch[i] ?? [];
      if (branchMismatched(errs, u.instancePath)) continue;
      if (best === -1 || errs.length < (byBranch[best] ?? []).length) best = i;
    }
    const keep = new Set<ErrorObject>(best === -1 ? [] : (byBranch[best] ?? []));
    alive.delete(u);
    for (const e of within) if (!keep.has(e)) alive.delete(e);
    if (best !== -1) continue;
    // No branch fits. If every branch only disagrees about the same discriminator key, report that key.
    const discr = within.filter((e) => e.keyword === 'const' && e.instancePath !== u.instancePath);
    const paths = new Set(discr.map((e) => e.instancePath));
    const allHaveDiscr = byBranch.every((errs) => errs.some((e) => discr.includes(e)));
    let m: Mismatch;
    if (paths.size === 1 && allHaveDiscr && discr[0] !== undefined) {
      const allowed = [...new Set(discr.map((e) => String((e.params as { allowedValue: unknown }).allowedValue)))];
      m = { keyword: '$mismatch', instancePath: discr[0].instancePath, unionPath: u.instancePath, expected: list(allowed.map((a) => `\`${a}\``)), data: discr[0].data, allowed };
    } else {
      m = { keyword: '$mismatch', instancePath: u.instancePath, unionPath: u.instancePath, expected: describeSchema(u.parentSchema), data: u.data };
    }
    added.push(m);
  }
  return [...errors.filter((e) => alive.has(e)), ...added];
}

/**
 * Adds a Problem for every ajv error (after union resolution) and returns the JSON pointers of invalid
 * values, which the caller removes before resolving defaults.
 */
export function reportSchemaErrors(errors: readonly ErrorObject[], problems: Problems, hints: SchemaProblemHints = {}): string[] {
  const invalid: string[] = [];
  const seen = new Set<string>();
  /** The "one of ..." text of each schema with unknown keys, built once (thousands of unknown keys share it). */
  const knownKeys = new Map<object, string>();
  const add = (pointer: string, init: Parameters<Problems['add']>[1]): void => {
    const key = `${pointer}\0${init.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    problems.add(pointer, init);
  };
  for (const e of resolveUnions(errors)) {
    if (!isAjv(e)) {
      const m = e;
      invalid.push(m.instancePath);
      if (m.unionPath !== m.instancePath) invalid.push(m.unionPath);
      if (m.allowed !== undefined) {
        const guess = typeof m.data === 'string' ? closest(m.data, m.allowed) : undefined;
        add(m.instancePath, { message: `Unsupported value${guess === undefined ? '' : `; did you mean \`${guess}\`?`}`, expected: m.expected, found: found(m.data) });
      } else {
        add(m.instancePath, { message: 'Wrong type', expected: m.expected, found: found(m.data) });
      }
      continue;
    }
    const err = e;
    const at = err.instancePath;
    const params = err.params as Record<string, unknown>;
    const parent = asSchema(err.parentSchema);
    switch (err.keyword) {
      case 'required': {
        const key = String(params.missingProperty);
        const hint = hints.required?.[key];
        const keySchema = asSchema(parent.properties)[key];
        add(child(at, key), {
          message: `Missing required key \`${key}\`${hint === undefined ? '' : `: ${hint}`}`,
          ...(keySchema === undefined ? {} : { expected: describeSchema(keySchema) }),
        });
        break;
      }
      case 'additionalProperties': {
        const key = String(params.additionalProperty);
        const p = child(at, key);
        invalid.push(p);
        const props = Object.keys(asSchema(parent.properties));
        const keyPatterns = Object.keys(asSchema(parent.patternProperties));
        if (props.length === 0 && keyPatterns.length > 0) {
          const texts = keyPatterns.map((kp) => patternText(kp) ?? `a key matching ${kp}`);
          add(p, { message: `Invalid key \`${key}\``, expected: list(texts), found: `\`${key}\``, at: 'key' });
        } else {
          const guess = closest(key, props);
          let expected = knownKeys.get(parent);
          if (expected === undefined) {
            expected = `one of ${props.map((k) => `\`${k}\``).join(', ')}`;
            knownKeys.set(parent, expected);
          }
          add(p, {
            message: `Unknown key \`${key}\`${guess === undefined ? '' : `; did you mean \`${guess}\`?`}`,
            expected,
            found: `\`${key}\``,
            at: 'key',
          });
        }
        break;
      }
      case 'enum': {
        invalid.push(at);
        const rejected = typeof err.data === 'string' ? hints.rejectedValues?.[err.data] : undefined;
        if (rejected !== undefined) {
          add(at, { message: rejected, found: found(err.data) });
          break;
        }
        const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.map(String) : [];
        const guess = typeof err.data === 'string' ? closest(err.data, allowed) : undefined;
        add(at, {
          message: `Unsupported value${guess === undefined ? '' : `; did you mean \`${guess}\`?`}`,
          expected: describeSchema(parent),
          found: found(err.data),
        });
        break;
      }
      case 'uniqueItems': {
        const j = Number(params.j);
        const i = Number(params.i);
        const p = child(at, Math.max(i, j));
        invalid.push(p);
        add(p, { message: `Duplicate item: the same value is listed at positions ${Math.min(i, j)} and ${Math.max(i, j)}`, found: found(Array.isArray(err.data) ? err.data[Math.max(i, j)] : undefined) });
        break;
      }
      case 'minLength':
        invalid.push(at);
        add(at, { message: 'Must not be empty', expected: describeSchema(parent), found: found(err.data) });
        break;
      case 'minItems':
      case 'maxItems':
      case 'maxLength':
        invalid.push(at);
        add(at, { message: `Too ${err.keyword.startsWith('min') ? 'few' : 'many'} ${err.keyword.endsWith('Items') ? 'items' : 'characters'}: ${err.message ?? ''}`.trim(), found: found(err.data) });
        break;
      case 'type':
        invalid.push(at);
        add(at, { message: 'Wrong type', expected: describeSchema(parent), found: found(err.data) });
        break;
      case 'pattern':
      case 'const':
        invalid.push(at);
        add(at, { message: 'Invalid value', expected: describeSchema(parent), found: found(err.data) });
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        invalid.push(at);
        add(at, { message: 'Out of range', expected: describeSchema(parent), found: found(err.data) });
        break;
      default:
        invalid.push(at);
        add(at, { message: `Invalid value: ${err.message ?? err.keyword}`, found: found(err.data) });
    }
  }
  return invalid;
}

function found(v: unknown): string {
  const t = typeName(v);
  if (v === null || v === undefined || Array.isArray(v) || typeof v === 'object') return t;
  return `${t} (${describeValue(v)})`;
}
