/** `vmkit events [--domain NAME] [--count N] [--timeout S]`: lifecycle events as they happen (NDJSON with --json). */
import type { LifecycleEvent } from '../../driver/api-types.js';
import { VmkitError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import { secondsFlag, withConnection, type ConnectFlags } from './remote.js';

export interface EventsFlags extends ConnectFlags {
  readonly domain?: string;
  readonly count?: string;
  readonly timeout?: string;
}

export function eventsCommand(flags: EventsFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const count = flags.count === undefined ? Infinity : Number(flags.count);
    if (!(count > 0) || (count !== Infinity && !Number.isInteger(count))) {
      throw new VmkitError('InvalidArgument', `--count must be a whole number > 0, got '${flags.count ?? ''}'`);
    }
    const timeoutMs = secondsFlag('--timeout', flags.timeout);
    if (flags.json !== true) process.stderr.write(`Watching lifecycle events of ${flags.domain === undefined ? 'every domain' : `'${flags.domain}'`} on ${conn.uri} (Ctrl-C to stop)\n`);
    return new Promise<number>((resolve) => {
      let seen = 0;
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        conn.off('event', onEvent);
        process.off('SIGINT', done);
        clearTimeout(timer);
        resolve(EXIT.ok);
      };
      const onEvent = (ev: LifecycleEvent): void => {
        if (flags.domain !== undefined && ev.domain !== flags.domain) return;
        if (flags.json === true) process.stdout.write(`${JSON.stringify(ev)}\n`);
        else process.stdout.write(`${ev.time}  ${ev.type.padEnd(9)}  ${ev.domain}  ${ev.state}${ev.reason === undefined ? '' : `  ${ev.reason}`}${ev.message === undefined ? '' : `: ${ev.message}`}\n`);
        if (++seen >= count) done();
      };
      conn.on('event', onEvent);
      process.once('SIGINT', done);
      if (timeoutMs !== undefined) timer = setTimeout(done, timeoutMs);
    });
  });
}
