/** `vmkit autostart NAME [--disable]`: start the domain when the daemon starts (or no longer). */
import { emit, withConnection, type ConnectFlags } from './remote.js';

export interface AutostartFlags extends ConnectFlags {
  readonly disable?: boolean;
}

export function autostartCommand(name: string, flags: AutostartFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const info = await conn.lookup(name).update({ autostart: flags.disable !== true });
    emit(flags, info, `Domain '${name}' ${info.autostart ? 'marked as autostarted' : 'unmarked as autostarted'}`);
  });
}
