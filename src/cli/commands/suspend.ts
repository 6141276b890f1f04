/** `vmkit suspend NAME`: pause the guest's vCPUs. */
import { emit, stateLine, withConnection, type ConnectFlags } from './remote.js';

export function suspendCommand(name: string, flags: ConnectFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const d = conn.lookup(name);
    await d.suspend();
    const info = await d.info();
    emit(flags, info, stateLine(info));
  });
}
