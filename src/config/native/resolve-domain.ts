/** Native YAML: validated, pruned input -> DomainSpec with every default filled in. Pure. */
import type { DomainSpec } from '../../model/domain.js';
import { guessedFormatProblem } from '../disk-format-guard.js';
import { managedOptionReason, optionName } from '../managed-options.js';
import { child } from '../pointer.js';
import type { Loose, ResolveContext } from '../resolve-context.js';
import { DEFAULT_MEMORY_MIB, MIN_MEMORY_MIB, resolveCpu, resolveMachine, resolveMemoryBacking, resolveNumaCells, resolveNumaTune } from './resolve-compute.js';
import { checkDeviceBoot, resolveBalloon, resolveGraphics, resolveHostdevs, resolveRngs, resolveSerial, type PciOwners } from './resolve-devices.js';
import { checkAddresses, resolveControllers, resolveInputs } from './resolve-addresses.js';
import { resolveNics } from './resolve-network.js';
import { resolveClock, resolveCurrentMemory, resolveFeatures, resolveLifecycle, withPflash } from './resolve-platform.js';
import { resolveBoot, resolveDisks } from './resolve-storage.js';
import { resolveTuning } from './resolve-tuning.js';
import { resolveVirtioMem } from './resolve-virtio-mem.js';
import type { DomainInputT } from './schema.js';

export const DEFAULT_EMULATOR = 'qemu-system-x86_64';
export { DEFAULT_VNC_LISTEN } from './resolve-devices.js';

function resolveIothreads(input: Loose<DomainInputT['iothreads']>): string[] {
  if (input === undefined) return [];
  if (typeof input === 'number') return Array.from({ length: input }, (_, i) => `io${i}`);
  return input.filter((t): t is string => t !== undefined);
}

/** Reports extra QEMU arguments that would take over what vmkit controls (`-qmp`, `-daemonize`, ...). */
export function checkQemuArgs(args: readonly (string | undefined)[], at: string, ctx: ResolveContext): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    if (a === undefined) return;
    out.push(a);
    if (!a.startsWith('-')) return;
    const reason = managedOptionReason(optionName(a));
    if (reason !== undefined) ctx.problems.add(child(at, i), { message: `${a} is managed by vmkit: ${reason}`, found: JSON.stringify(a) });
    const value = args[i + 1];
    const unsafe = guessedFormatProblem(optionName(a), value ?? '');
    if (unsafe !== undefined) ctx.problems.add(child(at, i), unsafe);
  });
  return out;
}

export function resolveDomain(input: Loose<DomainInputT>, ctx: ResolveContext, file: string | undefined): DomainSpec {
  const machine = resolveMachine(input.machine);
  const cpu = resolveCpu(input.cpu, ctx);
  const memoryMiB = input.memory === undefined ? DEFAULT_MEMORY_MIB : (ctx.sizeMiB(input.memory, '/memory', { minMiB: MIN_MEMORY_MIB }) ?? DEFAULT_MEMORY_MIB);
  const iothreads = resolveIothreads(input.iothreads);
  const numaTune = resolveNumaTune(input.numa, ctx);
  const boot = withPflash(resolveBoot(input.boot, ctx), input.boot, ctx);
  const lifecycle = resolveLifecycle(input.lifecycle);
  const features = resolveFeatures(input.features);
  const clock = resolveClock(input.clock, cpu, ctx);
  const currentMemoryMiB = resolveCurrentMemory(input.current_memory, memoryMiB, input.balloon !== undefined && input.balloon !== false, ctx);
  const emulator = input.emulator ?? DEFAULT_EMULATOR;
  // ---- devices (resolve-devices.ts) ----
  const pci: PciOwners = new Map();
  const disks = resolveDisks(input.disks, { machine, iothreads, boot }, ctx);
  const nics = resolveNics(input.nics, ctx, pci);
  const hostdevs = resolveHostdevs(input.hostdevs, pci, ctx);
  checkDeviceBoot({ boot, disks, nics, hostdevs }, ctx);
  const balloon = resolveBalloon(input.balloon);
  const rngs = resolveRngs(input.rngs, ctx);
  const graphics = resolveGraphics(input.graphics);
  const controllers = resolveControllers(input.controllers, machine, ctx);
  checkAddresses({ machine, controllers, disks, nics, hostdevs, balloon, rngs, graphics }, ctx);
  const inputs = resolveInputs(input.inputs, controllers, ctx);
  const numaCells = resolveNumaCells(input.numa_cells, cpu, memoryMiB, ctx);
  const virtioMem = resolveVirtioMem(input.virtio_mem, { machine, memoryMiB, numaCells }, ctx);
  return {
    name: input.name ?? '',
    ...(input.uuid === undefined ? {} : { uuid: input.uuid.toLowerCase() }),
    ...(input.title === undefined ? {} : { title: input.title }),
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(lifecycle === undefined ? {} : { lifecycle }),
    ...(features === undefined ? {} : { features }),
    ...(clock === undefined ? {} : { clock }),
    ...(currentMemoryMiB === undefined ? {} : { currentMemoryMiB }),
    emulator: emulator.includes('/') ? ctx.path(emulator) : emulator,
    machine,
    cpu,
    memoryMiB,
    memoryBacking: resolveMemoryBacking(input.memory_backing, memoryMiB, ctx),
    ...(numaTune === undefined ? {} : { numaTune }),
    numaCells,
    ...(virtioMem === undefined ? {} : { virtioMem }),
    ...(boot === undefined ? {} : { boot }),
    disks,
    nics,
    serial: resolveSerial(input.serial, ctx),
    graphics,
    ...(balloon === undefined ? {} : { balloon }),
    ...(rngs.length === 0 ? {} : { rngs }),
    ...(hostdevs.length === 0 ? {} : { hostdevs }),
    ...(controllers.length === 0 ? {} : { controllers }),
    ...(inputs.length === 0 ? {} : { inputs }),
    iothreads,
    qemuArgs: checkQemuArgs(input.qemu_args ?? [], '/qemu_args', ctx),
    tuning: resolveTuning(input.tuning, { vcpus: cpu.maxVcpus ?? cpu.vcpus, iothreads }, ctx),
    process: {
      ...(input.user === undefined ? {} : { user: input.user }),
      ...(input.group === undefined ? {} : { group: input.group }),
      env: Object.fromEntries(Object.entries(input.env ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string')),
      clearEnv: input.clear_env ?? false,
    },
    source: { format: 'vmkit-yaml', ...(file === undefined ? {} : { file }) },
  };
}
