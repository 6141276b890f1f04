/**
 * The options vmkit always adds first: start paused, ignore user config files, name the guest, write a pid
 * file, and connect the QMP monitor to the socket vmkit listens on (no polling for a socket to appear).
 */

import type { DomainSpec } from '../../model/domain.js';
import { formatOpts, type OptEntry } from '../escape.js';
import { QMP_CHARDEV_ID, type ArgvContext } from './context.js';

export interface ControlOptions {
  /** `-nodefaults`: native specs describe all hardware; qemu-launcher options assume QEMU's defaults. */
  readonly nodefaults: boolean;
  /** The `-name` parts, `guest` first (see raw.ts for the qemu-launcher merge). */
  readonly name: readonly OptEntry[];
}

export function controlArgs(ctx: ArgvContext, opts: ControlOptions): string[] {
  return [
    '-S',
    '-no-user-config',
    ...(opts.nodefaults ? ['-nodefaults'] : []),
    '-name',
    formatOpts(undefined, opts.name),
    '-pidfile',
    ctx.paths.pidFile,
    '-chardev',
    formatOpts('socket', [
      ['id', QMP_CHARDEV_ID],
      ['path', ctx.paths.qmpSocket],
      ['server', false],
    ]),
    '-mon',
    formatOpts(undefined, [
      ['chardev', QMP_CHARDEV_ID],
      ['mode', 'control'],
    ]),
  ];
}

/** `-name guest=<name>,debug-threads=on`: QEMU names its threads (`CPU 0/KVM`, `IO io0`) for ps/top. */
export function nativeNameOpts(spec: DomainSpec): OptEntry[] {
  return [
    ['guest', spec.name],
    ['debug-threads', true],
  ];
}
