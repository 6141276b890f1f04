/**
 * Positions for problems found after a definition was parsed (QEMU capabilities, libvirt networks and
 * bridges, tuning on this host), in every definition format. Lazy: the text is read again only when a
 * problem needs a position, never on the path where everything fits. Pure.
 *
 *   native YAML       the pointer's value, or its closest written ancestor (definitionLocator)
 *   qemu-launcher     the `qemu:` option or `launcher:` entry that wrote the field (launcherLocator)
 *   libvirt XML       the element, attribute or text the value was read from (libvirtLocator)
 */
import { ConfigError, isVmkitError, VmkitError, type Problem } from '../../errors.js';
import type { DomainSpec } from '../../model/domain.js';
import { launcherLocator } from '../../config/launcher/locate.js';
import { libvirtLocator } from '../../config/libvirt/locate.js';
import { definitionLocator, pointerOf, type FieldLocator } from './locate-field.js';

/** The definition's text, or a function that gives it (called at most once, and only if a position is needed). */
export type DefinitionText = string | (() => string);

/** A locator for `spec`'s definition `text` that reads (and parses) the text on its first call only. */
export function specLocator(spec: DomainSpec, text: DefinitionText, file: string | undefined = spec.source.file): FieldLocator {
  let inner: FieldLocator | undefined;
  return (pointer) => {
    inner ??= build(spec, typeof text === 'string' ? text : text(), file);
    return inner(pointer);
  };
}

function build(spec: DomainSpec, text: string, file: string | undefined): FieldLocator {
  switch (spec.source.format) {
    case 'libvirt-xml':
      return libvirtLocator(text, file);
    case 'qemu-launcher':
      return launcherLocator(text, file, { cpu: spec.cpu });
    case 'vmkit-yaml':
      return definitionLocator(text, file);
  }
}

/**
 * The native JSON pointer for a problem's path. Most paths are native field paths (`nics[0].network`);
 * tuning checks name DomainSpec fields (`tuning.vcpuPins[1].cpus`), which are mapped to where they are
 * written (`/tuning/pinning/vcpus/<vcpu>`).
 */
export function problemPointer(spec: DomainSpec, path: string): string {
  const m = /^tuning\.(vcpuPins|iothreadPins)\[(\d+)\]/.exec(path);
  if (m !== null) {
    const i = Number(m[2]);
    if (m[1] === 'vcpuPins') {
      const pin = spec.tuning.vcpuPins[i];
      return pin === undefined ? '/tuning/pinning/vcpus' : `/tuning/pinning/vcpus/${pin.vcpu}`;
    }
    const io = spec.tuning.iothreadPins[i];
    return io === undefined ? '/tuning/pinning/iothreads' : pointerOf(`tuning.pinning.iothreads[${JSON.stringify(io.iothread)}]`);
  }
  const sched = /^tuning\.(vcpu|emulator|iothread)Sched(?:\.(\w+))?$/.exec(path);
  if (sched !== null) return `/tuning/scheduler/${sched[1] === 'emulator' ? 'emulator' : `${sched[1] as string}s`}${sched[2] === undefined ? '' : `/${sched[2]}`}`;
  switch (path) {
    case 'tuning.vcpuPins':
    case 'tuning.autoPin':
      return '/tuning/pinning';
    case 'tuning.emulatorPin':
      return '/tuning/pinning/emulator';
    case 'tuning.rlimitMemlock':
      return '/tuning/rlimit_memlock';
    default:
      return pointerOf(path);
  }
}

/**
 * `problems` with the position (and, for launcher and XML files, the path as written there) of each one
 * that has none yet, from `spec`'s definition `text`. Problems of another file are left as they are. The
 * text is read only if some problem needs it.
 */
export function withPositions(problems: readonly Problem[], spec: DomainSpec, text: DefinitionText, file: string | undefined = spec.source.file): Problem[] {
  const locate = specLocator(spec, text, file);
  return problems.map((p) => {
    if (p.line !== undefined || (p.file !== undefined && p.file !== file)) return p;
    const pos = locate(problemPointer(spec, p.path));
    if (pos === undefined) return p;
    return { ...p, ...(file === undefined ? {} : { file }), line: pos.line, col: pos.col, ...(pos.path === undefined ? {} : { path: pos.path }) };
  });
}

/**
 * `e` with positions for its problems (`details.problems`, as ConfigError and the host checks carry them),
 * from `spec`'s definition `text`; any other error is returned as it is. For callers that hold the text
 * while an operation fails after parsing (vmkit argv, vmkit run).
 */
export function placeProblems(e: unknown, spec: DomainSpec, text: DefinitionText): unknown {
  if (!isVmkitError(e)) return e;
  const list = e.details.problems;
  if (!Array.isArray(list) || list.length === 0 || !list.every(isProblem)) return e;
  if (list.every((p) => p.line !== undefined)) return e;
  const problems = withPositions(list, spec, text);
  if (e instanceof ConfigError) return new ConfigError(problems, { cause: e.cause });
  return new VmkitError(e.code, e.message, { cause: e.cause, details: { ...e.details, problems } });
}

function isProblem(x: unknown): x is Problem {
  return x !== null && typeof x === 'object' && typeof (x as Problem).message === 'string' && typeof (x as Problem).path === 'string';
}
