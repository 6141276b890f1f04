/**
 * Native YAML: the domain-level settings (title, description, lifecycle, features, clock, pflash firmware).
 * Each resolves to `undefined` when it only says what happens anyway, so every format gives one spec. Pure.
 */
import type { BootSpec, ClockSpec, CpuSpec, FeaturesSpec, LifecycleSpec, PflashSpec } from '../../model/domain.js';
import { DEFAULT_LIFECYCLE } from '../../model/platform.js';
import { child } from '../pointer.js';
import type { Loose, ResolveContext } from '../resolve-context.js';
import type { BootInput, ClockInput, FeaturesInput, LifecycleInput, PflashInput } from './schema.js';
import type { Static } from '@sinclair/typebox';

/** Any key given: all three policies, the missing ones at their defaults (as libvirt fills them). */
export function resolveLifecycle(input: Loose<Static<typeof LifecycleInput>> | undefined): LifecycleSpec | undefined {
  if (input === undefined) return undefined;
  return {
    onPoweroff: input.on_poweroff ?? DEFAULT_LIFECYCLE.onPoweroff,
    onReboot: input.on_reboot ?? DEFAULT_LIFECYCLE.onReboot,
    onCrash: input.on_crash ?? DEFAULT_LIFECYCLE.onCrash,
  };
}

export function resolveFeatures(input: Loose<Static<typeof FeaturesInput>> | undefined): FeaturesSpec | undefined {
  return input?.acpi === false ? { acpi: false } : undefined;
}

export function resolveClock(input: Loose<Static<typeof ClockInput>> | undefined, cpu: CpuSpec, ctx: ResolveContext): ClockSpec | undefined {
  if (input === undefined) return undefined;
  const at = '/clock';
  const offset = input.offset ?? 'utc';
  if (offset !== 'variable') {
    for (const key of ['adjustment', 'basis'] as const) {
      if (input[key] !== undefined) {
        ctx.problems.add(child(at, key), { message: `${key} only applies to offset: variable`, expected: 'offset: variable, or no ' + key, found: `offset: ${offset}` });
      }
    }
  }
  const t = input.timers;
  const kvmclock = t?.kvmclock?.present;
  if (kvmclock === false && cpu.model === undefined && !ctx.broken('/cpu')) {
    ctx.problems.add(child(child(at, 'timers'), 'kvmclock'), {
      message: 'Hiding kvmclock switches a CPU flag off, which needs a CPU model: set cpu.model (e.g. qemu64 or host)',
      expected: 'cpu.model',
    });
  }
  const adjustment = offset === 'variable' ? (input.adjustment ?? 0) : undefined;
  const basis = offset === 'variable' && input.basis === 'localtime' ? 'localtime' : undefined;
  const spec: ClockSpec = {
    offset,
    ...(adjustment === undefined ? {} : { adjustment }),
    ...(basis === undefined ? {} : { basis }),
    ...(t?.rtc?.tickpolicy === undefined ? {} : { rtcTickPolicy: t.rtc.tickpolicy }),
    ...(t?.pit?.tickpolicy === undefined ? {} : { pitTickPolicy: t.pit.tickpolicy }),
    ...(t?.hpet?.present === undefined ? {} : { hpet: t.hpet.present }),
    ...(kvmclock === undefined ? {} : { kvmclock }),
  };
  return Object.keys(spec).length === 1 && offset === 'utc' ? undefined : spec;
}

/** `boot.pflash` on top of the firmware boot resolveBoot made (it knows nothing of pflash). */
export function withPflash(boot: BootSpec | undefined, input: Loose<Static<typeof BootInput>> | undefined, ctx: ResolveContext): BootSpec | undefined {
  const p: Loose<Static<typeof PflashInput>> | undefined = input !== undefined && 'pflash' in input ? input.pflash : undefined;
  if (p === undefined || boot?.kind !== 'firmware') return boot;
  const at = '/boot/pflash';
  if (boot.firmware !== undefined) {
    ctx.problems.add(at, { message: 'boot.firmware (a ROM image, -bios) and boot.pflash (flash firmware) exclude each other; keep one', at: 'key' });
  }
  if (p.vars_template !== undefined && p.vars === undefined) {
    ctx.problems.add(child(at, 'vars_template'), { message: 'vars_template is copied to vars when the VM starts: give vars too', expected: 'vars: <path of this VM\'s variable store>' });
  }
  const pflash: PflashSpec = {
    code: p.code === undefined ? '' : ctx.path(p.code),
    readonly: p.readonly ?? true,
    ...(p.vars === undefined ? {} : { vars: ctx.path(p.vars) }),
    ...(p.vars_template === undefined ? {} : { varsTemplate: ctx.path(p.vars_template) }),
  };
  return { ...boot, pflash };
}

/** `current_memory`: a balloon target below `memory` (equal is no target); needs a balloon to act through. */
export function resolveCurrentMemory(input: string | number | undefined, memoryMiB: number, balloon: boolean, ctx: ResolveContext): number | undefined {
  const at = '/current_memory';
  const mib = ctx.sizeMiB(input, at, { minMiB: 1 });
  if (mib === undefined || ctx.broken('/memory')) return undefined;
  if (mib > memoryMiB) {
    ctx.problems.add(at, { message: `current_memory is more than the guest's memory (${memoryMiB} MiB)`, expected: `at most ${memoryMiB}M`, found: JSON.stringify(input) });
    return undefined;
  }
  if (mib === memoryMiB) return undefined;
  if (!balloon && !ctx.broken('/balloon')) {
    ctx.problems.add(at, { message: 'A memory target below memory is set through the balloon: add `balloon: true`', expected: 'balloon: true' });
  }
  return mib;
}
