/**
 * Moves a QEMU migration stream between a unix socket and a file, in this process, with no helper
 * program and no shell (QEMU 7.2 has no `file:` migration URI):
 * - receiveToFile: vmkit listens on a socket, QEMU connects to it (`migrate uri=unix:PATH`) and its stream
 *   is written to a new file (O_EXCL|O_NOFOLLOW, mode 0600), synced once complete;
 * - sendFile: QEMU listens (`migrate-incoming uri=unix:PATH`), vmkit connects and writes the file into it.
 */
import { close as fsClose, constants, createReadStream, createWriteStream, fstat, fsync } from 'node:fs';
import { chown, stat, unlink } from 'node:fs/promises';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { VmkitError } from '../errors.js';

export interface FileSink {
  /** Resolves with the bytes written once QEMU closed the connection and the file is synced. */
  readonly done: Promise<number>;
  /** Stops listening and drops a connection in progress (the file is left for the caller to remove). */
  close(): Promise<void>;
}

/**
 * Listens on `socketPath` for one connection and writes what it sends to `file`. `owner`: the account
 * QEMU runs as, given the socket so that it may connect.
 */
export async function receiveToFile(socketPath: string, file: string, owner?: { uid: number; gid: number }): Promise<FileSink> {
  await unlink(socketPath).catch(() => undefined);
  const out = createWriteStream(file, { flags: (constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW) as unknown as string, mode: 0o600, autoClose: false });
  const fd = await new Promise<number>((resolve, reject) => {
    out.once('open', resolve);
    out.once('error', (e) => reject(new VmkitError('HostError', `Cannot create ${file}: ${e.message}`, { cause: e, details: { file } })));
  });
  let closed = false;
  const closeFd = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await promisify(fsClose)(fd).catch(() => undefined);
  };
  let conn: net.Socket | undefined;
  const server = net.createServer({ pauseOnConnect: true });
  const done = new Promise<number>((resolve, reject) => {
    server.once('connection', (socket) => {
      conn = socket;
      server.close();
      pipeline(socket, out).then(
        async () => {
          await promisify(fsync)(fd);
          const { size } = await promisify(fstat)(fd);
          await closeFd();
          resolve(size);
        },
        async (e: unknown) => {
          await closeFd();
          reject(new VmkitError('HostError', `Cannot write the migration stream to ${file}: ${(e as Error).message}`, { cause: e, details: { file } }));
        },
      );
    });
    server.once('error', (e) => {
      void closeFd();
      reject(new VmkitError('HostError', `Cannot listen on ${socketPath}: ${e.message}`, { cause: e }));
    });
  });
  done.catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
    server.listen(socketPath);
  });
  if (owner !== undefined) await chown(socketPath, owner.uid, owner.gid);
  return {
    done,
    async close() {
      conn?.destroy();
      server.close();
      if (conn === undefined) await closeFd();
      await unlink(socketPath).catch(() => undefined);
    },
  };
}

/** Connects to the socket QEMU listens on and writes `file` into it; resolves once all of it is sent. */
export async function sendFile(socketPath: string, file: string, signal?: AbortSignal): Promise<number> {
  // QEMU creates the listening socket while it handles migrate-incoming; allow it a moment.
  let socket: net.Socket | undefined;
  for (let i = 0; socket === undefined; i++) {
    try {
      socket = await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(socketPath, () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (i >= 50) throw new VmkitError('HostError', `Cannot connect to QEMU's incoming migration socket ${socketPath}: ${(e as Error).message}`, { cause: e });
      await delay(20, undefined, signal === undefined ? {} : { signal });
    }
  }
  const { size } = await stat(file);
  try {
    if (signal === undefined) await pipeline(createReadStream(file), socket);
    else await pipeline(createReadStream(file), socket, { signal });
  } catch (e) {
    // QEMU closes the connection as soon as it has read the whole stream, which can come before this end
    // of the socket has seen its own 'finish': every byte was handed over, so the send is complete (the
    // migration's status, watched by the caller, says whether QEMU took it).
    if (!(isPrematureClose(e) && socket.bytesWritten >= size)) throw e;
  }
  return size;
}

function isPrematureClose(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}
