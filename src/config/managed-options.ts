/** QEMU options that vmkit itself controls and that definitions therefore may not set. Pure. */

const MANAGED: Readonly<Record<string, string>> = {
  qmp: 'vmkit connects its own QMP monitor to control the VM; use `-monitor` for an extra human monitor',
  'qmp-pretty': 'vmkit connects its own QMP monitor to control the VM; use `-monitor` for an extra human monitor',
  daemonize: 'vmkit supervises QEMU as its child process and must not let it daemonize',
  pidfile: 'vmkit tracks the QEMU process itself and writes its own pid file',
  S: 'vmkit always starts QEMU paused and resumes it after applying tuning (pinning, scheduling)',
};

/** Why vmkit manages option `name` (without leading dashes), or undefined when a definition may set it. */
export function managedOptionReason(name: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(MANAGED, name) ? MANAGED[name] : undefined;
}

/** Strips one or two leading dashes: `--nographic` -> `nographic`. */
export function optionName(arg: string): string {
  return arg.replace(/^--?/, '');
}
