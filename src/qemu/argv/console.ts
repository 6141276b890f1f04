/**
 * The guest's serial port (ttyS0). In `console` mode it connects to the socket vmkit listens on (vmkit reads
 * and logs the console itself); a `file` or `unix` serial is QEMU's own chardev, id `serial0` like libvirt's.
 */

import type { DomainSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';
import { CONSOLE_CHARDEV_ID, type ArgvContext } from './context.js';

/** The chardev id of a file or unix serial (libvirt's `charserial0` alias is not an id vmkit needs to keep). */
export const SERIAL_CHARDEV_ID = 'serial0';

export function consoleArgs(spec: DomainSpec, ctx: ArgvContext): string[] {
  const s = spec.serial;
  switch (s.mode) {
    case 'none':
      return [];
    case 'console':
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
    case 'file':
      return ['-chardev', formatOpts('file', [['id', SERIAL_CHARDEV_ID], ['path', s.path], ['append', s.append ? true : undefined]]), '-serial', `chardev:${SERIAL_CHARDEV_ID}`];
    case 'unix':
      return [
        '-chardev',
        formatOpts('socket', [
          ['id', SERIAL_CHARDEV_ID],
          ['path', s.path],
          ['server', s.server],
          ['wait', s.server ? false : undefined],
        ]),
        '-serial',
        `chardev:${SERIAL_CHARDEV_ID}`,
      ];
  }
}
