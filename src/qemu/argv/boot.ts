/**
 * Direct kernel boot (`-kernel`, `-initrd`, `-append`), firmware (`-bios`, or flash images as `-blockdev`), and the boot order, which QEMU
 * takes as `bootindex=` on each device rather than as a machine option.
 */

import type { DomainSpec, PflashSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';
import type { ArgvContext } from './context.js';
import { machineFamily } from './machine-family.js';

export function bootArgs(spec: DomainSpec, ctx: ArgvContext): string[] {
  const boot = spec.boot;
  if (boot === undefined) return [];
  // None of these is QemuOpts: QEMU takes the strings whole, so they are not comma-escaped.
  if (boot.kind === 'kernel') {
    const cmdline = kernelCmdline(spec, ctx, boot.cmdline);
    return [
      '-kernel',
      boot.kernel,
      ...(boot.initrd === undefined ? [] : ['-initrd', boot.initrd]),
      ...(cmdline === undefined ? [] : ['-append', cmdline]),
    ];
  }
  if (boot.pflash !== undefined) return pflashArgs(boot.pflash);
  return boot.firmware === undefined ? [] : ['-bios', boot.firmware];
}

/** Node names of the flash firmware images, tied to the machine with `-machine pflash0=,pflash1=` (machine.ts). */
export const PFLASH_CODE_NODE = 'vmkit-pflash0';
export const PFLASH_VARS_NODE = 'vmkit-pflash1';

/** Each image as a `file` node under an explicit `raw` format node: a flash image is never probed. */
function pflashArgs(p: PflashSpec): string[] {
  const image = (node: string, path: string, readOnly: boolean): string[] => [
    '-blockdev',
    formatOpts(undefined, [['driver', 'file'], ['node-name', `${node}-file`], ['filename', path], ['read-only', readOnly ? true : undefined]]),
    '-blockdev',
    formatOpts(undefined, [['driver', 'raw'], ['node-name', node], ['file', `${node}-file`], ['read-only', readOnly ? true : undefined]]),
  ];
  return [...image(PFLASH_CODE_NODE, p.code, p.readonly), ...(p.vars === undefined ? [] : image(PFLASH_VARS_NODE, p.vars, false))];
}

/** The guest command line, plus `tsc_early_khz=` for microvm under TCG (see ArgvContext.hostTscKHz). */
function kernelCmdline(spec: DomainSpec, ctx: ArgvContext, cmdline: string | undefined): string | undefined {
  const khz = ctx.hostTscKHz;
  const needsTsc = machineFamily(spec.machine.type) === 'microvm' && ctx.accel === 'tcg' && khz !== undefined;
  if (!needsTsc || /(^|\s)tsc_early_khz=/.test(cmdline ?? '')) return cmdline;
  const tsc = `tsc_early_khz=${Math.round(khz)}`;
  return cmdline === undefined || cmdline.trim() === '' ? tsc : `${cmdline} ${tsc}`;
}

export interface BootIndexes {
  /** disk id → bootindex */
  readonly disks: ReadonlyMap<string, number>;
  /** nic id → bootindex */
  readonly nics: ReadonlyMap<string, number>;
}

/**
 * Explicit `disks[].bootIndex` values win: when any disk has one, only those are used. Otherwise a firmware
 * boot's `order` numbers devices from 1: `disk` → every hard disk, `cdrom` → every CD-ROM, `network` → every
 * NIC, each in definition order.
 */
export function planBootIndexes(spec: DomainSpec): BootIndexes {
  const disks = new Map<string, number>();
  const nics = new Map<string, number>();
  const explicit = spec.disks.filter((d) => d.bootIndex !== undefined);
  if (explicit.length > 0) {
    for (const d of explicit) disks.set(d.id, d.bootIndex as number);
    return { disks, nics };
  }
  if (spec.boot?.kind !== 'firmware') return { disks, nics };
  let next = 1;
  for (const kind of spec.boot.order) {
    if (kind === 'network') {
      for (const n of spec.nics) if (!nics.has(n.id)) nics.set(n.id, next++);
    } else {
      for (const d of spec.disks) if (d.media === kind && !disks.has(d.id)) disks.set(d.id, next++);
    }
  }
  return { disks, nics };
}
