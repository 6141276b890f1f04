/** `vmkit shutdown NAME [--timeout S]`: ACPI power-off, waiting for the guest (default 60 s). */
import { emit, secondsFlag, withConnection, type ConnectFlags } from './remote.js';

export interface ShutdownFlags extends ConnectFlags {
  readonly timeout?: string;
}

export function shutdownCommand(name: string, flags: ShutdownFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const timeoutMs = secondsFlag('--timeout', flags.timeout);
    const stop = await conn.lookup(name).shutdown(timeoutMs === undefined ? {} : { timeoutMs });
    emit(flags, { name, stop }, `Domain '${name}' shut down: ${stop.message}`);
  });
}
