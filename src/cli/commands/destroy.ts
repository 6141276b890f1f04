/** `vmkit destroy NAME [--grace S]`: stop QEMU now (SIGTERM, SIGKILL after the grace period). */
import { emit, secondsFlag, withConnection, type ConnectFlags } from './remote.js';

export interface DestroyFlags extends ConnectFlags {
  readonly grace?: string;
}

export function destroyCommand(name: string, flags: DestroyFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const graceMs = secondsFlag('--grace', flags.grace);
    const stop = await conn.lookup(name).destroy(graceMs === undefined ? {} : { graceMs });
    emit(flags, { name, stop }, `Domain '${name}' destroyed`);
  });
}
