/** `vmkit dump NAME` (alias dumpxml): the definition back in its native format (YAML or XML as defined). */
import { printJson } from '../output.js';
import { withConnection, type ConnectFlags } from './remote.js';

export function dumpCommand(name: string, flags: ConnectFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const def = await conn.lookup(name).definition();
    if (flags.json === true) printJson({ name, ...def });
    else process.stdout.write(def.text.endsWith('\n') ? def.text : `${def.text}\n`);
  });
}
