/** `-machine <type>,accel=<accel>[,memory-backend=<id>]`. */

import type { DomainSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';
import type { ArgvContext } from './context.js';
import { machineMemoryBackend } from './memory.js';

/**
 * microvm keeps QEMU 7.2's defaults on purpose (measured with the Debian 6.1 kernel under TCG):
 * - ACPI stays on: the guest finds its virtio-mmio devices in the DSDT, and both `poweroff` in the guest and
 *   `system_powerdown` go through the ACPI GED. With `acpi=off` QEMU appends `virtio_mmio.device=` to the
 *   command line instead, but a guest poweroff only halts and QEMU never exits.
 * - Option ROMs stay on: with ACPI the firmware is SeaBIOS-microvm, which loads `-kernel` through them.
 * - PIT/PIC/RTC stay at `auto`. They do not give the guest a clock: with ACPI the kernel treats the machine
 *   as hardware-reduced, and PIT calibration fails without port 0x61, so under TCG (no kvmclock) the guest
 *   hangs at timer setup unless it is told the TSC rate. See ArgvContext.hostTscKHz (boot.ts).
 */
export function machineArgs(spec: DomainSpec, ctx: ArgvContext): string[] {
  return [
    '-machine',
    formatOpts(spec.machine.type, [
      ['accel', ctx.accel],
      ['memory-backend', machineMemoryBackend(spec)],
    ]),
  ];
}
