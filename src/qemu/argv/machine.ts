/**
 * `-machine <type>,accel=<accel>[,memory-backend=<id>][,acpi=off][,hpet=off][,pflash0=..,pflash1=..]`, then the
 * guest clock options that belong to the platform: `-rtc` and `-global kvm-pit.lost_tick_policy=`.
 */

import type { DomainSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';
import { PFLASH_CODE_NODE, PFLASH_VARS_NODE } from './boot.js';
import { clockArgs } from './clock.js';
import type { ArgvContext } from './context.js';
import { machineFamily } from './machine-family.js';
import { machineMemoryBackend } from './memory.js';
import { unsupported } from './unsupported.js';

/**
 * microvm keeps QEMU 7.2's defaults on purpose (measured with the Debian 6.1 kernel under TCG):
 * - ACPI stays on: the guest finds its virtio-mmio devices in the DSDT, and both `poweroff` in the guest and
 *   `system_powerdown` go through the ACPI GED. With `acpi=off` QEMU appends `virtio_mmio.device=` to the
 *   command line instead, but a guest poweroff only halts and QEMU never exits.
 * - Option ROMs stay on: with ACPI the firmware is SeaBIOS-microvm, which loads `-kernel` through them.
 * - PIT/PIC/RTC stay at `auto`. They do not give the guest a clock: with ACPI the kernel treats the machine
 *   as hardware-reduced, and PIT calibration fails without port 0x61, so under TCG (no kvmclock) the guest
 *   hangs at timer setup unless it is told the TSC rate. See ArgvContext.hostTscKHz (boot.ts).
 * `features.acpi: false` is passed as written on every machine (QEMU 7.2's `acpi=off`, which replaces the
 * deprecated `-no-acpi`); on microvm that means the caveat above.
 */
export function machineArgs(spec: DomainSpec, ctx: ArgvContext): string[] {
  const family = machineFamily(spec.machine.type);
  const pflash = spec.boot?.kind === 'firmware' ? spec.boot.pflash : undefined;
  if (pflash !== undefined && family !== 'q35' && family !== 'pc') {
    unsupported(spec, 'boot.pflash', `Flash firmware needs a pc or q35 machine; ${spec.machine.type} has no pflash`, spec.machine.type);
  }
  const hpet = spec.clock?.hpet;
  if (hpet !== undefined && family === 'microvm') {
    unsupported(spec, 'clock.timers.hpet', 'microvm has no HPET to switch; remove the hpet timer setting', spec.machine.type);
  }
  return [
    '-machine',
    formatOpts(spec.machine.type, [
      ['accel', ctx.accel],
      ['memory-backend', machineMemoryBackend(spec)],
      ['acpi', spec.features?.acpi === false ? false : undefined],
      ['hpet', hpet === false ? false : undefined],
      ['pflash0', pflash === undefined ? undefined : PFLASH_CODE_NODE],
      ['pflash1', pflash?.vars === undefined ? undefined : PFLASH_VARS_NODE],
    ]),
    ...clockArgs(spec, ctx),
  ];
}
