/** qemu-launcher YAML -> DomainSpec with `rawOptions` (the `qemu:` list) and derived structured fields. Pure. */
import { basename } from 'node:path';
import { DOMAIN_NAME_PATTERN, type DomainSpec, type TuningSpec } from '../../model/domain.js';
import { launcherValidator } from '../validators.js';
import type { FormatInput, FormatResult } from '../format-result.js';
import { child } from '../pointer.js';
import { pruneInvalid } from '../prune.js';
import { ResolveContext, type Loose } from '../resolve-context.js';
import { checkSched, DEADLINE_MESSAGE } from '../sched.js';
import { reportSchemaErrors, type SchemaProblemHints } from '../schema-problems.js';
import { readYaml, scalarText } from '../yaml-source.js';
import { deriveFields, type DerivedFields } from './derive.js';
import { resolveLauncherPins } from './pinning.js';
import { compileQemuOptions } from './qemu-options.js';
import type { LauncherFileT } from './schema.js';

export const LAUNCHER_HINTS: SchemaProblemHints = {
  required: {
    launcher: 'a top-level `qemu:` key makes this a qemu-launcher definition, which needs a `launcher:` section with at least `binary`',
    binary: 'the QEMU binary to run, e.g. qemu-system-x86_64 or /usr/bin/qemu-kvm',
    qemu: 'the list of QEMU options',
  },
  rejectedValues: { deadline: DEADLINE_MESSAGE },
};

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_.+-]+/g, '-').replace(/^[^A-Za-z0-9_]+/, '').slice(0, 64);
}

/**
 * The domain name: the `-name` guest name when it is a valid domain name, else the file's base name
 * (`foo.yml` -> `foo`, as qemu-launcher names VMs), else the `-name` value with invalid characters replaced.
 */
function chooseName(derived: DerivedFields, file: string | undefined, ctx: ResolveContext): string {
  const guest = derived.guestName;
  if (guest !== undefined && DOMAIN_NAME_PATTERN.test(guest)) return guest;
  const base = file === undefined ? undefined : basename(file).replace(/\.(ya?ml|json)$/i, '');
  if (base !== undefined && DOMAIN_NAME_PATTERN.test(base)) return base;
  const cleaned = guest === undefined ? '' : sanitize(guest);
  if (DOMAIN_NAME_PATTERN.test(cleaned)) return cleaned;
  ctx.problems.add(derived.guestNamePointer ?? '/qemu', {
    message: 'Cannot name this domain: add a `- name: my-vm` option (letters, digits, `_`, `.`, `+`, `-`)',
    at: 'key',
    ...(guest === undefined ? {} : { found: JSON.stringify(guest) }),
  });
  return '';
}

export function parseLauncher(input: FormatInput): FormatResult {
  const src = readYaml(input.text, input.file);
  if (src.fatal) return { problems: src.problems.list };
  if (src.value === undefined || src.value === null) {
    src.problems.add('', { message: 'The definition is empty' });
    return { problems: src.problems.list };
  }
  const validate = launcherValidator();
  const invalid = validate(src.value) ? [] : reportSchemaErrors(validate.errors ?? [], src.problems, LAUNCHER_HINTS);
  const pruned = pruneInvalid(src.value, invalid);
  if (pruned === null || typeof pruned !== 'object' || Array.isArray(pruned)) return { problems: src.problems.list };
  const file = pruned as Loose<LauncherFileT>;
  const ctx = new ResolveContext(src.problems, input.baseDir, invalid);

  const options = ctx.broken('/qemu') ? [] : compileQemuOptions(src.doc, src.index, src.problems);
  const derived = deriveFields(options, src.problems);
  const launcher = file.launcher ?? {};

  const smpPos = derived.smpPointer === undefined ? undefined : src.index.pos(derived.smpPointer);
  const topologySource = smpPos === undefined ? (derived.smpPointer === undefined ? 'QEMU\'s default topology (no -smp)' : '-smp') : `-smp (line ${smpPos.line})`;
  const vcpuPins = ctx.broken('/qemu')
    ? []
    : resolveLauncherPins(launcher.vcpu_pinning as Parameters<typeof resolveLauncherPins>[0], { cpu: derived.cpu, known: derived.topologyKnown, source: topologySource }, ctx);
  const vcpuSched = ctx.broken('/launcher/scheduler') || ctx.broken('/launcher/priority') ? undefined : checkSched(launcher.scheduler, launcher.priority, { policy: '/launcher/scheduler', priority: '/launcher/priority' }, src.problems, { allowZero: true });

  let rlimitMemlock: TuningSpec['rlimitMemlock'];
  const rl = launcher.rlimit_memlock;
  if (rl === true || rl === 'unlimited') rlimitMemlock = 'unlimited';
  else if (typeof rl === 'string') rlimitMemlock = ctx.sizeBytes(rl, '/launcher/rlimit_memlock');

  // Environment values keep their source text (`1.0` stays "1.0"), as qemu-launcher passes them.
  const env: Record<string, string> = {};
  for (const key of Object.keys(launcher.env ?? {})) {
    const node = src.index.entry(child('/launcher/env', key))?.node;
    if (node !== undefined && node !== null) env[key] = scalarText(node);
  }

  const binary = launcher.binary ?? '';
  const spec: DomainSpec = {
    name: chooseName(derived, input.file, ctx),
    emulator: binary.includes('/') ? ctx.path(binary) : binary,
    machine: derived.machine,
    cpu: derived.cpu,
    memoryMiB: derived.memoryMiB,
    memoryBacking: derived.memoryBacking,
    numaCells: [],
    disks: [],
    nics: [],
    serial: derived.serial,
    graphics: derived.graphics,
    iothreads: derived.iothreads,
    rawOptions: options.map((o) => o.option),
    qemuArgs: [],
    tuning: {
      autoPin: false,
      vcpuPins,
      iothreadPins: [],
      ...(vcpuSched === undefined ? {} : { vcpuSched }),
      ...(rlimitMemlock === undefined ? {} : { rlimitMemlock }),
      // qemu-launcher always moves pinned vCPUs into their own cpusets and every other task into a pool:
      // implied, so a host too small for it gets the pins without the shield (and a warning).
      isolate: vcpuPins.length > 0,
      ...(vcpuPins.length > 0 ? { isolateImplied: true } : {}),
      debug: launcher.debug ?? false,
    },
    process: {
      ...(launcher.user === undefined ? {} : { user: launcher.user }),
      ...(launcher.group === undefined ? {} : { group: launcher.group }),
      env,
      clearEnv: launcher.clear_env ?? false,
    },
    source: { format: 'qemu-launcher', ...(input.file === undefined ? {} : { file: input.file }) },
  };
  return { spec, problems: src.problems.list };
}
