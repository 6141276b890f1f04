/** `vmkit undefine NAME`: remove a shut-off domain's definition. */
import { emit, withConnection, type ConnectFlags } from './remote.js';

export function undefineCommand(name: string, flags: ConnectFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const d = conn.lookup(name);
    const uuid = d.uuid;
    await conn.undefine(name);
    emit(flags, { name: d.name, uuid, undefined: true }, `Domain '${d.name}' undefined`);
  });
}
