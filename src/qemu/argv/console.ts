/** The guest's serial port, connected to the socket vmkit listens on (vmkit reads and logs the console itself). */

import type { DomainSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';
import { CONSOLE_CHARDEV_ID, type ArgvContext } from './context.js';

export function consoleArgs(spec: DomainSpec, ctx: ArgvContext): string[] {
  if (spec.serial.mode !== 'console') return [];
  return [
    '-chardev',
    formatOpts('socket', [
      ['id', CONSOLE_CHARDEV_ID],
      ['path', ctx.paths.consoleSocket],
      ['server', false],
    ]),
    '-serial',
    `chardev:${CONSOLE_CHARDEV_ID}`,
  ];
}
