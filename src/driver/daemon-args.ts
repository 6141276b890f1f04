/**
 * What a daemon-started QEMU needs beyond the generated argv, so that it outlives a daemon restart:
 * a second QMP monitor that QEMU serves (the first one connects to the daemon's listener at start), and a
 * serial console QEMU serves instead of connecting to the daemon. Pure.
 */
import { routesConsole, type DomainSpec } from '../model/domain.js';
import type { RunDir } from '../process/state-dir.js';
import { formatOpts } from '../qemu/escape.js';

export const ADOPT_QMP_ID = 'vmkit-qmp-adopt';
export const SERVED_CONSOLE_ID = 'vmkit-console-served';

/**
 * The spec QEMU is started from in daemon mode: without vmkit's own console chardev (daemonArgs adds one
 * that QEMU serves). Policy `-action` options are appended to qemuArgs by the caller.
 */
export function daemonSpec(spec: DomainSpec): DomainSpec {
  return routesConsole(spec) ? { ...spec, serial: { ...spec.serial, mode: 'none' } } : spec;
}

export function daemonArgs(runDir: RunDir, console: boolean): string[] {
  const served = (id: string, path: string): string =>
    formatOpts('socket', [
      ['id', id],
      ['path', path],
      ['server', true],
      ['wait', false],
    ]);
  return [
    '-chardev',
    served(ADOPT_QMP_ID, runDir.adoptQmpSocket),
    '-mon',
    formatOpts(undefined, [
      ['chardev', ADOPT_QMP_ID],
      ['mode', 'control'],
    ]),
    ...(console ? ['-chardev', served(SERVED_CONSOLE_ID, runDir.consoleSocket), '-serial', `chardev:${SERVED_CONSOLE_ID}`] : []),
  ];
}
