/**
 * `vmkit console NAME`: the guest's serial console on this terminal. Ctrl-] detaches (the terminal is in
 * raw mode, so Ctrl-C goes to the guest); the command also ends when the domain stops.
 */
import type { DomainSpec } from '../../model/domain.js';
import { consoleUnavailable } from '../../process/serial-files.js';
import type { Socket } from 'node:net';
import type { RemoteDomain } from '../../api/client.js';
import type { VmDomain } from '../../driver/api-types.js';
import { VmkitError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import { withConnection, type ConnectFlags } from './remote.js';

const ESCAPE = 0x1d; // Ctrl-]

export function consoleCommand(name: string, flags: ConnectFlags): Promise<number> {
  return withConnection(flags, (conn) => attachConsole(conn.lookup(name), flags));
}

/** Attaches this terminal to `d`'s console until Ctrl-], the domain stops, or the console closes. */
export async function attachConsole(d: VmDomain, _flags: ConnectFlags): Promise<number> {
  if (d.state() === 'shutoff') {
    throw new VmkitError('InvalidState', `Cannot attach to the console of domain '${d.name}': it is shutoff, and the console needs it running`, {
      details: { domain: d.name, state: 'shutoff' },
    });
  }
  // An embedded domain's spec is at hand; the daemon refuses the console upgrade with the same reason.
  const spec = (d as { readonly spec?: DomainSpec }).spec;
  const why = spec === undefined ? undefined : consoleUnavailable(spec);
  if (why !== undefined) throw new VmkitError('InvalidState', `Cannot attach to the console of domain '${d.name}': ${why}`, { details: { domain: d.name } });
  // What the guest printed before (the last 256 KiB the daemon or the domain kept) comes first.
  const remote = d as Partial<RemoteDomain> & { consoleHistory?: () => Buffer };
  const socket: Socket | undefined = typeof remote.openConsole === 'function' ? await remote.openConsole({ replay: true }) : undefined;
  process.stderr.write(`Connected to domain '${d.name}' (escape character is ^])\n`);
  if (socket === undefined && typeof remote.consoleHistory === 'function') process.stdout.write(remote.consoleHistory());
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  return new Promise<number>((resolve) => {
    const out = (chunk: Buffer): void => {
      process.stdout.write(chunk);
    };
    const input = (buf: Buffer): void => {
      const at = buf.indexOf(ESCAPE);
      if (at >= 0) {
        if (at > 0) d.writeConsole(buf.subarray(0, at));
        finish();
        return;
      }
      d.writeConsole(buf);
    };
    const finish = (): void => {
      d.off('console', out);
      d.off('stopped', finish);
      stdin.off('data', input);
      process.off('SIGINT', finish);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      resolve(EXIT.ok);
    };
    d.on('console', out);
    d.once('stopped', finish);
    socket?.once('close', finish);
    process.once('SIGINT', finish);
    if (raw) stdin.setRawMode(true);
    stdin.on('data', input);
    stdin.resume();
  });
}
