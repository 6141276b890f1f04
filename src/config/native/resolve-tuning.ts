/** Native YAML: tuning (pinning, scheduling, memlock, isolation). Pure. */
import type { Static } from '@sinclair/typebox';
import type { CpuSet, ThreadSched, TuningSpec } from '../../model/domain.js';
import { child } from '../pointer.js';
import type { Loose, ResolveContext } from '../resolve-context.js';
import { checkSched } from '../sched.js';
import { closest } from '../suggest.js';
import type { TuningInput } from './schema.js';

type SchedInput = Loose<{ policy: 'other' | 'batch' | 'idle' | 'fifo' | 'rr'; priority?: number }> | undefined;

function sched(input: SchedInput, at: string, ctx: ResolveContext): ThreadSched | undefined {
  if (input === undefined || input.policy === undefined || ctx.broken(at)) return undefined;
  return checkSched(input.policy, input.priority, { policy: child(at, 'policy'), priority: child(at, 'priority') }, ctx.problems);
}

export function resolveTuning(
  input: Loose<Static<typeof TuningInput>> | undefined,
  env: { vcpus: number; iothreads: readonly string[] },
  ctx: ResolveContext,
): TuningSpec {
  const at = '/tuning';
  const pinAt = child(at, 'pinning');
  const pinning = input?.pinning;
  const autoPin = pinning === 'auto';
  const vcpuPins: { vcpu: number; cpus: CpuSet }[] = [];
  const iothreadPins: { iothread: string; cpus: CpuSet }[] = [];
  let emulatorPin: CpuSet | undefined;
  if (pinning !== undefined && pinning !== 'auto') {
    const vAt = child(pinAt, 'vcpus');
    const entries: [number, string | number | undefined, string][] = Array.isArray(pinning.vcpus)
      ? (pinning.vcpus as readonly (string | number | undefined)[]).map((v, i) => [i, v, child(vAt, i)])
      : Object.entries(pinning.vcpus ?? {}).map(([k, v]) => [Number(k), v as string | number | undefined, child(vAt, k)]);
    for (const [vcpu, value, p] of entries) {
      if (value === undefined) continue;
      if (vcpu >= env.vcpus) {
        if (!ctx.broken('/cpu')) {
          ctx.problems.add(p, {
            message: `vCPU ${vcpu} does not exist: the guest has ${env.vcpus} vCPU(s), numbered 0-${env.vcpus - 1}`,
            expected: `a vCPU index from 0 to ${env.vcpus - 1}`,
            found: String(vcpu),
            at: 'key',
          });
        }
        continue;
      }
      const cpus = ctx.cpus(value, p);
      if (cpus !== undefined) vcpuPins.push({ vcpu, cpus });
    }
    vcpuPins.sort((a, b) => a.vcpu - b.vcpu);
    emulatorPin = ctx.cpus(pinning.emulator, child(pinAt, 'emulator'));
    for (const [name, value] of Object.entries(pinning.iothreads ?? {})) {
      const p = child(child(pinAt, 'iothreads'), name);
      if (!env.iothreads.includes(name)) {
        if (!ctx.broken('/iothreads')) {
          const guess = closest(name, env.iothreads);
          ctx.problems.add(p, {
            message: `Unknown iothread \`${name}\`${guess === undefined ? '' : `; did you mean \`${guess}\`?`}`,
            expected: env.iothreads.length === 0 ? 'an iothread defined in `iothreads` (none are)' : `one of ${env.iothreads.map((t) => `\`${t}\``).join(', ')}`,
            found: `\`${name}\``,
            at: 'key',
          });
        }
        continue;
      }
      const cpus = ctx.cpus(value as string | number | undefined, p);
      if (cpus !== undefined) iothreadPins.push({ iothread: name, cpus });
    }
  }
  const sAt = child(at, 'scheduler');
  const vcpuSched = sched(input?.scheduler?.vcpus, child(sAt, 'vcpus'), ctx);
  const emulatorSched = sched(input?.scheduler?.emulator, child(sAt, 'emulator'), ctx);
  const iothreadSched = sched(input?.scheduler?.iothreads, child(sAt, 'iothreads'), ctx);
  if (input?.scheduler?.iothreads !== undefined && env.iothreads.length === 0 && !ctx.broken('/iothreads')) {
    ctx.problems.add(child(sAt, 'iothreads'), { message: 'There are no iothreads to schedule; define `iothreads` or remove this' });
  }
  let rlimitMemlock: TuningSpec['rlimitMemlock'];
  const rl = input?.rlimit_memlock;
  if (rl === 'unlimited') rlimitMemlock = 'unlimited';
  else if (rl !== undefined) rlimitMemlock = ctx.sizeBytes(rl, child(at, 'rlimit_memlock'));
  const isolate = input?.isolate ?? false;
  if (isolate && !autoPin && vcpuPins.length === 0 && emulatorPin === undefined && iothreadPins.length === 0 && !ctx.broken(pinAt)) {
    ctx.problems.add(child(at, 'isolate'), {
      message: 'isolate reserves the pinned host CPUs, but nothing is pinned; add tuning.pinning (or `pinning: auto`)',
    });
  }
  return {
    autoPin,
    vcpuPins,
    ...(emulatorPin === undefined ? {} : { emulatorPin }),
    iothreadPins,
    ...(vcpuSched === undefined ? {} : { vcpuSched }),
    ...(emulatorSched === undefined ? {} : { emulatorSched }),
    ...(iothreadSched === undefined ? {} : { iothreadSched }),
    ...(rlimitMemlock === undefined ? {} : { rlimitMemlock }),
    isolate,
    debug: input?.debug ?? false,
  };
}
