/** `vmkit reboot NAME`: reset the guest (QMP system_reset). */
import { emit, stateLine, withConnection, type ConnectFlags } from './remote.js';

export function rebootCommand(name: string, flags: ConnectFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const d = conn.lookup(name);
    await d.reboot();
    const info = await d.info();
    emit(flags, info, stateLine(info));
  });
}
