/** `-machine <type>,accel=<accel>[,memory-backend=<id>]`. */

import type { DomainSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';
import type { ArgvContext } from './context.js';
import { machineMemoryBackend } from './memory.js';

/**
 * microvm keeps QEMU 7.2's defaults on purpose: ACPI stays on (the guest finds its virtio-mmio devices in
 * the DSDT, and `system_powerdown` reaches it through the ACPI GED, which graceful shutdown needs; with
 * `acpi=off` QEMU instead appends `virtio_mmio.device=` to the kernel command line and powerdown does
 * nothing); PIT, PIC and RTC stay on (under TCG there is no kvmclock, the kernel calibrates its TSC against
 * them); option ROMs stay on (the ACPI firmware, SeaBIOS-microvm, loads `-kernel` through linuxboot_dma.bin).
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
