/**
 * A DomainSpec handed over as an object (`define({ spec })`) is checked like a definition: it is written out
 * in its own format (native YAML, or qemu-launcher YAML for specs with raw options), parsed back with every
 * rule of that format, and must come back as the same spec. Pure.
 */
import { ConfigError, VmkitError, type Problem } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';
import { exportLauncherYaml } from './launcher/export-launcher.js';
import { exportNativeYaml } from './native/export-native.js';
import { parseDefinition } from './parse-definition.js';

export interface CheckedSpec {
  /** The spec as parsing gives it (deep-frozen), with the source of the spec that was passed in. */
  readonly spec: DomainSpec;
  /** The definition text it was checked through, and its format: what is stored for it. */
  readonly text: string;
  readonly format: 'vmkit-yaml' | 'qemu-launcher';
}

/** Where a problem found in the written-out text points: the spec's field (positions of generated text mean nothing). */
function asSpecProblem(p: Problem): Problem {
  const { file: _file, line: _line, col: _col, ...rest } = p;
  return { ...rest, message: `${rest.message} (in the spec passed to define)` };
}

/** The first place two plain values differ, as a display path (`disks[0].id`), with both values. */
export function firstDifference(a: unknown, b: unknown, path = ''): { path: string; found: unknown; expected: unknown } | undefined {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return { path, found: a, expected: b };
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((k) => ra[k] !== undefined || rb[k] !== undefined);
  for (const k of keys) {
    const d = firstDifference(ra[k], rb[k], path === '' ? k : `${path}.${k}`);
    if (d !== undefined) return d;
  }
  return undefined;
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

/**
 * Checks `spec` (any value) as described above. Throws ConfigError (problems at the spec's field paths) for
 * a spec the format's rules refuse, InvalidArgument for a value that is not a DomainSpec or a spec that is
 * not what vmkit derives from its own definition (e.g. a disk id that is not `disk<N>`).
 */
export function checkSpec(spec: unknown): CheckedSpec {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec) || typeof (spec as { name?: unknown }).name !== 'string') {
    throw new VmkitError('InvalidArgument', 'A spec must be a DomainSpec object with a name (parseDefinition() makes one); or define from a definition text or file');
  }
  const given = spec as DomainSpec;
  let text: string;
  let format: CheckedSpec['format'];
  try {
    const launcher = exportLauncherYaml(given);
    [text, format] = launcher === undefined ? [exportNativeYaml(given), 'vmkit-yaml'] : [launcher, 'qemu-launcher'];
  } catch (e) {
    throw new VmkitError('InvalidArgument', `The spec is not a complete DomainSpec (${(e as Error).message}); make it with parseDefinition(), or define from a definition text or file`, { cause: e });
  }
  let parsed: DomainSpec;
  try {
    // A launcher spec without `-name` is named after its file, as qemu-launcher does.
    parsed = parseDefinition(text, { baseDir: '/', file: format === 'qemu-launcher' ? `${given.name}.yml` : undefined });
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.problems.map(asSpecProblem));
    throw e;
  }
  const { source: _ps, ...derived } = parsed;
  const { source: _gs, ...passed } = given;
  const diff = firstDifference(JSON.parse(JSON.stringify(passed)), JSON.parse(JSON.stringify(derived)));
  if (diff !== undefined) {
    throw new VmkitError(
      'InvalidArgument',
      `The spec is inconsistent at ${diff.path || 'its top level'}: it has ${show(diff.found)}, but its own definition gives ${show(diff.expected)}; make specs with parseDefinition() and change them only where the definition would`,
      { details: { path: diff.path, found: diff.found, expected: diff.expected } },
    );
  }
  const source = given.source !== null && typeof given.source === 'object' && typeof given.source.format === 'string' ? given.source : parsed.source;
  return { spec: Object.freeze({ ...parsed, source }), text, format };
}
