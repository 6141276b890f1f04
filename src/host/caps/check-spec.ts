/**
 * The one call an operation makes: look up the spec's binary once (cache or probe), then validate the
 * whole spec against those capabilities. define/start/validate/run each call this once, never per device.
 */
import { ConfigError, isVmkitError, type Problem } from '../../errors.js';
import type { DomainSpec } from '../../model/domain.js';
import type { CapsCache } from './caps-cache.js';
import { displayPath, type FieldLocator } from './field-path.js';
import type { DefinitionText } from './locate-spec.js';
import { sortProblems } from '../../config/problems.js';
import type { QemuCaps } from './types.js';
import { validateAgainstCaps } from './validate-spec.js';

export interface HostCheckOptions {
  readonly cache: CapsCache;
  /**
   * The definition's text: problems then carry file:line:col (and, for XML and qemu-launcher files, the
   * path as written there). It is read again only when there is a problem to place.
   */
  readonly text?: DefinitionText;
  /** The definition's file name for positions; default spec.source.file. */
  readonly file?: string;
  readonly signal?: AbortSignal;
  /** Bound on the capability look-up (a cold cache probes QEMU: ~0.2-1 s). */
  readonly timeoutMs?: number;
  /** The binary's capabilities when the caller has looked them up already (no second look-up). */
  readonly caps?: QemuCaps;
  /** The argv the start really uses (buildArgv's output): checked as it is instead of building one more. */
  readonly argv?: readonly string[];
}

export interface HostCheck {
  /** Undefined when the binary was not found (then `problems` says so). */
  readonly caps?: QemuCaps;
  readonly problems: readonly Problem[];
}

/** Where the QEMU binary is named in each definition format. */
function emulatorPointer(spec: DomainSpec): string {
  return spec.source.format === 'qemu-launcher' ? '/launcher/binary' : '/emulator';
}

/**
 * The problems of `spec` on its binary, without throwing for them: a missing binary is a problem at the
 * field naming it. Rejects only for failures that are not the definition's (QemuFailed from a probe,
 * Timeout, Aborted).
 */
export async function hostProblems(spec: DomainSpec, opts: HostCheckOptions): Promise<HostCheck> {
  const file = opts.file ?? spec.source.file;
  // Only a problem needs a position: the locators (and the readers of each format they use) load then.
  const locator = async (): Promise<FieldLocator | undefined> => (opts.text === undefined ? undefined : (await import('./locate-spec.js')).specLocator(spec, opts.text, file));
  let caps: QemuCaps;
  try {
    caps = opts.caps ?? await opts.cache.lookup(spec.emulator, {
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
    });
  } catch (e) {
    if (isVmkitError(e) && e.code === 'NotFound') {
      const pointer = emulatorPointer(spec);
      const pos = (await locator())?.(pointer);
      return {
        problems: [
          {
            ...(file === undefined ? {} : { file }),
            ...(pos === undefined ? {} : { line: pos.line, col: pos.col }),
            path: pos?.path ?? displayPath(pointer),
            message: e.message,
            found: JSON.stringify(spec.emulator),
          },
        ],
      };
    }
    throw e;
  }
  const argv = opts.argv === undefined ? {} : { argv: opts.argv };
  const problems = validateAgainstCaps(spec, caps, argv);
  const locate = problems.length === 0 ? undefined : await locator();
  if (locate === undefined) return { caps, problems };
  // Found again with positions, in source order, as the definition's own problems are.
  return { caps, problems: sortProblems(validateAgainstCaps(spec, caps, { positions: locate, ...argv })) };
}

/**
 * Looks up the spec's binary and checks the spec against it; returns the capabilities (use the same ones
 * for the rest of the operation, e.g. `effectiveAccel(spec, caps)`). Throws ConfigError listing every
 * problem, or what hostProblems() rejects with.
 */
export async function checkSpecAgainstHost(spec: DomainSpec, opts: HostCheckOptions): Promise<QemuCaps> {
  const { caps, problems } = await hostProblems(spec, opts);
  if (problems.length > 0 || caps === undefined) throw new ConfigError(problems);
  return caps;
}
