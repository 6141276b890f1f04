/**
 * `--web`/`--metrics` addresses: `HOST:PORT` (`[::1]:PORT` for IPv6), checked before anything starts. Only
 * loopback addresses unless the caller allows others. Pure.
 */
import { isIP } from 'node:net';
import { VmkitError } from '../errors.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  readonly loopback: boolean;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Parses `HOST:PORT`; throws InvalidArgument naming the flag and the fix. */
export function parseListenAddress(text: string, flag: string, allowNonLoopback = false): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (m === null || host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new VmkitError('InvalidArgument', `${flag} must be HOST:PORT, like 127.0.0.1:8080 or [::1]:8080 (port 0 picks a free one), got '${text}'`, { details: { flag, value: text } });
  }
  if (m[1] !== undefined && isIP(host) !== 6) throw new VmkitError('InvalidArgument', `${flag}: '${host}' in brackets is not an IPv6 address (got '${text}')`, { details: { flag, value: text } });
  const loopback = isLoopbackHost(host);
  if (!loopback && !allowNonLoopback) {
    throw new VmkitError(
      'InvalidArgument',
      `${flag} ${text} is not a loopback address: other hosts could reach it over plain HTTP, where the dashboard's token (or the metrics) can be read on the way. Use 127.0.0.1, or add --allow-non-loopback if that is what you want`,
      { details: { flag, value: text } },
    );
  }
  return { host, port, loopback };
}

/** `host:port` as a URL authority (IPv6 in brackets). */
export function authority(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}
