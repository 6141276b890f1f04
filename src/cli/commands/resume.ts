/** `vmkit resume NAME`: let a paused guest run again. */
import { emit, stateLine, withConnection, type ConnectFlags } from './remote.js';

export function resumeCommand(name: string, flags: ConnectFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const d = conn.lookup(name);
    await d.resume();
    const info = await d.info();
    emit(flags, info, stateLine(info));
  });
}
