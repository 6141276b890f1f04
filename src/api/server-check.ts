/**
 * The client's side of the socket's trust: before a request is written on a new connection, the process
 * serving the socket must run as root or as the client's own user (SO_PEERCRED on the connected socket).
 * Anything else (another user who took the socket's path, say in a shared /tmp) gets nothing: the
 * connection is closed before any byte of the request is sent.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { VmkitError } from '../errors.js';
import { peerCred } from './peer-cred.js';

/** The uids a client trusts to serve its daemon socket: root and itself. */
export function trustedServerUids(uid: number | undefined = process.getuid?.()): readonly number[] {
  return uid === undefined || uid === 0 ? [0] : [0, uid];
}

/** Checks who serves a connected socket; throws HostError when it is not one of `trusted`. */
export function checkServer(socket: net.Socket, socketPath: string, trusted: readonly number[] = trustedServerUids()): void {
  const cred = peerCred(socket);
  if (cred === undefined) {
    throw new VmkitError('HostError', `Cannot tell who serves ${socketPath} (SO_PEERCRED failed): refusing to send it anything`, { details: { socket: socketPath } });
  }
  if (!trusted.includes(cred.uid)) {
    const who = trusted.length === 1 ? 'root' : `root or you (uid ${String(trusted[1])})`;
    throw new VmkitError(
      'HostError',
      `Refusing to talk to ${socketPath}: the process serving it (pid ${cred.pid}) runs as uid ${cred.uid}, not ${who}; it is not your vmkit daemon (another user may have taken the socket's path)`,
      { details: { socket: socketPath, serverUid: cred.uid, serverPid: cred.pid, reason: 'untrusted-server' } },
    );
  }
}

/**
 * A `createConnection` for http requests and agents: connects to `socketPath`, checks the server, and only
 * then hands the socket to http (which writes the request).
 */
export function verifiedConnection(socketPath: string, trusted?: readonly number[]): (options: unknown, callback: (err: Error | null, stream: Duplex) => void) => undefined {
  return (options, callback) => {
    // An agent's idle timeout reaches its sockets through these options (net.createConnection sets it).
    const timeout = (options as { timeout?: unknown } | undefined)?.timeout;
    const socket = net.createConnection({ path: socketPath, ...(typeof timeout === 'number' ? { timeout } : {}) });
    const onError = (e: Error): void => {
      socket.off('connect', onConnect);
      callback(e, socket);
    };
    const onConnect = (): void => {
      socket.off('error', onError);
      try {
        checkServer(socket, socketPath, trusted);
      } catch (e) {
        socket.destroy();
        callback(e as Error, socket);
        return;
      }
      callback(null, socket);
    };
    socket.once('error', onError);
    socket.once('connect', onConnect);
    return undefined;
  };
}
