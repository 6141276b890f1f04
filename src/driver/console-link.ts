/**
 * The daemon's end of a serial console QEMU serves (`-chardev socket,server=on,wait=off`): the daemon
 * connects as the one client, so a restarted daemon can connect again. QEMU creates the socket before its
 * monitors answer, so by the time QMP is negotiated the socket exists: no polling.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { VmkitError } from '../errors.js';

export interface ConsoleLinkEvents {
  data: [Buffer];
  close: [];
}

export class ConsoleLink extends EventEmitter<ConsoleLinkEvents> {
  private constructor(private readonly socket: net.Socket, readonly path: string) {
    super();
    socket.on('data', (chunk: Buffer) => this.emit('data', chunk));
    socket.on('error', () => undefined); // QEMU's exit closes it; the exit path reports
    socket.on('close', () => this.emit('close'));
  }

  static connect(path: string, timeoutMs = 5000): Promise<ConsoleLink> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ path });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new VmkitError('Timeout', `Cannot connect to QEMU's console socket ${path} within ${timeoutMs} ms`, { details: { path } }));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ConsoleLink(socket, path));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new VmkitError('HostError', `Cannot connect to QEMU's console socket ${path}: ${e.message}`, { cause: e, details: { path } }));
      });
    });
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  close(): void {
    this.socket.destroy();
  }
}
