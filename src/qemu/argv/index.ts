/**
 * buildArgv: DomainSpec → QEMU argv. Pure: it returns strings and starts, opens and probes nothing.
 *
 * Order: vmkit's control options; then for a native spec the hardware (machine, cpu, memory, iothreads,
 * boot, disks, NICs, serial console, display, assigned PCI devices, balloon, RNGs) or for a qemu-launcher spec its raw options as written; then
 * `qemuArgs` last, so the escape hatch wins over anything generated.
 */

import type { DomainSpec } from '../../model/domain.js';
import { VmkitError } from '../../errors.js';
import { bootArgs } from './boot.js';
import { consoleArgs } from './console.js';
import type { ArgvContext } from './context.js';
import { controlArgs, nativeNameOpts } from './control.js';
import { controllerArgs } from './controllers.js';
import { cpuArgs } from './cpu.js';
import { planDeviceBoot } from './device-boot.js';
import { deviceArgs } from './devices.js';
import { diskArgs } from './disks.js';
import { graphicsArgs } from './graphics.js';
import { inputArgs } from './inputs.js';
import { iothreadArgs } from './iothreads.js';
import { machineArgs } from './machine.js';
import { memoryArgs } from './memory.js';
import { nicArgs } from './nics.js';
import { pciPlacer } from './pci-plan.js';
import { rawArgs, rawNameOpts } from './raw.js';

export type { ArgvContext, RuntimePaths } from './context.js';
export { CONSOLE_CHARDEV_ID, QMP_CHARDEV_ID } from './context.js';
export { describeArgv, parseDescribedArgv } from './describe.js';
export { diskNodeNames, type DiskNodeNames } from './disks.js';
export { machineFamily, type MachineFamily } from './machine-family.js';

/** The QEMU arguments (without the binary) for `spec`. Throws ConfigError for hardware the machine cannot have. */
export function buildArgv(spec: DomainSpec, ctx: ArgvContext): string[] {
  const argv = spec.rawOptions === undefined ? nativeArgv(spec, ctx) : launcherArgv(spec, ctx, spec.rawOptions);
  argv.push(...spec.qemuArgs);
  const bad = argv.find((a) => a.includes('\0'));
  if (bad !== undefined) {
    throw new VmkitError('InvalidArgument', `Cannot pass a NUL character to QEMU: remove it from ${JSON.stringify(bad)}`, {
      details: { argument: bad },
    });
  }
  return argv;
}

function nativeArgv(spec: DomainSpec, ctx: ArgvContext): string[] {
  const boot = planDeviceBoot(spec);
  const pci = pciPlacer(spec);
  return [
    ...controlArgs(ctx, { nodefaults: true, name: nativeNameOpts(spec) }),
    ...machineArgs(spec, ctx),
    ...cpuArgs(spec),
    ...memoryArgs(spec),
    ...iothreadArgs(spec),
    ...bootArgs(spec, ctx),
    ...controllerArgs(spec, pci),
    ...diskArgs(spec, boot, pci),
    ...nicArgs(spec, boot, ctx, pci),
    ...consoleArgs(spec, ctx),
    ...graphicsArgs(spec, pci),
    ...inputArgs(spec),
    ...deviceArgs(spec, boot, pci),
  ];
}

function launcherArgv(spec: DomainSpec, ctx: ArgvContext, raw: NonNullable<DomainSpec['rawOptions']>): string[] {
  return [...controlArgs(ctx, { nodefaults: false, name: rawNameOpts(spec, raw) }), ...rawArgs(raw)];
}
