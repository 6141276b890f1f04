import { chmod, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { VmkitError } from '../errors.js';

/**
 * A unix socket vmkit listens on before QEMU starts; QEMU's serial chardev connects to it as a client, so
 * vmkit sees every byte of the console without polling for a socket to appear.
 */
export class ConsoleListener {
  private connection: Socket | undefined;
  private readonly waiters: ((s: Socket) => void)[] = [];

  private constructor(private readonly server: Server, readonly path: string) {
    server.on('connection', (socket) => {
      if (this.connection !== undefined) {
        socket.destroy(); // only QEMU's one chardev may connect
        return;
      }
      this.connection = socket;
      for (const w of this.waiters.splice(0)) w(socket);
    });
  }

  static async listen(path: string, mode = 0o600): Promise<ConsoleListener> {
    const server = createServer({ pauseOnConnect: false });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new VmkitError('HostError', `Cannot listen on console socket ${path}: ${e.message}`, { cause: e })));
      server.listen({ path, exclusive: true }, () => resolve());
    });
    await chmod(path, mode);
    return new ConsoleListener(server, path);
  }

  /** Resolves with QEMU's connection once it is made. */
  accepted(): Promise<Socket> {
    if (this.connection !== undefined) return Promise.resolve(this.connection);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops listening (QEMU keeps its connection) and removes the socket file. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    // close() stops listening at once; its callback would wait for QEMU's connection to end, so don't await it.
    this.server.close();
    await unlink(this.path).catch(() => undefined);
  }
}
