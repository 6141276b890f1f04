/** `vmkit start NAME [--paused] [--console] [--timeout S]`: start a defined domain. */
import { attachConsole } from './console.js';
import { emit, secondsFlag, stateLine, withConnection, type ConnectFlags } from './remote.js';

export interface StartFlags extends ConnectFlags {
  readonly paused?: boolean;
  readonly console?: boolean;
  readonly timeout?: string;
}

export function startCommand(name: string, flags: StartFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const d = conn.lookup(name);
    const timeoutMs = secondsFlag('--timeout', flags.timeout);
    await d.start({ ...(flags.paused === true ? { paused: true } : {}), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    const info = await d.info();
    emit(flags, info, stateLine(info));
    if (flags.console === true) return attachConsole(d, flags);
    return undefined;
  });
}
