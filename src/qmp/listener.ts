/**
 * QmpListener: vmkit listens, QEMU connects. This removes any polling for a socket to appear.
 *
 * Start order: `QmpListener.listen(path)` in the domain's private state directory (the directory should be
 * mode 0700; the socket file gets mode 0600), then spawn QEMU with
 *   -chardev socket,id=vmkit-qmp,path=PATH,server=off -mon chardev=vmkit-qmp,mode=control
 * QEMU connects while it starts up (also with -S), before it runs the guest; then `accept()` resolves
 * with a negotiated QmpClient. If QEMU exits before connecting, `accept()` waits until its timeout: pass an
 * AbortSignal that fires when the process exits.
 *
 * Connections that arrive before `accept()` is called are queued (their greeting stays buffered).
 * `close()` stops listening, drops connections nobody accepted and removes the socket file; clients
 * already handed out stay open and are closed by their owner.
 */
import { chmod, lstat, stat, unlink } from 'node:fs/promises';
import net from 'node:net';
import { dirname, isAbsolute } from 'node:path';
import { VmkitError } from '../errors.js';
import { bounded, checkTimeout, DEFAULT_TIMEOUT_MS } from './bounded.js';
import { QmpClient, type ClientOptions } from './client.js';
import { qmpClosedError } from './errors.js';

/** sun_path is 108 bytes on Linux, including the terminating NUL. */
export const MAX_UNIX_SOCKET_PATH_BYTES = 107;

interface AcceptWaiter {
  resolve: (socket: net.Socket) => void;
  reject: (e: unknown) => void;
}

/** Checks a socket path before binding; throws InvalidArgument naming the path. */
export function checkSocketPath(path: string): void {
  if (typeof path !== 'string' || path === '' || !isAbsolute(path)) {
    throw new VmkitError('InvalidArgument', `Invalid QMP socket path ${JSON.stringify(path)}: use an absolute path`, {
      details: { path },
    });
  }
  if (path.includes('\0')) {
    throw new VmkitError('InvalidArgument', `Invalid QMP socket path ${JSON.stringify(path)}: it contains a NUL byte`, {
      details: { path },
    });
  }
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_UNIX_SOCKET_PATH_BYTES) {
    throw new VmkitError(
      'InvalidArgument',
      `QMP socket path is ${bytes} bytes, longer than the ${MAX_UNIX_SOCKET_PATH_BYTES}-byte limit for unix sockets: ${path}; use a shorter state directory`,
      { details: { path, bytes, max: MAX_UNIX_SOCKET_PATH_BYTES } },
    );
  }
}

function listenError(path: string, err: NodeJS.ErrnoException): VmkitError {
  if (err.code === 'EADDRINUSE') {
    return new VmkitError('AlreadyExists', `Cannot listen on QMP socket ${path}: the path already exists; remove the stale file or use another path`, {
      cause: err,
      details: { path },
    });
  }
  if (err.code === 'ENOENT') {
    return new VmkitError('NotFound', `Cannot listen on QMP socket ${path}: its directory does not exist; create it (mode 0700) first`, {
      cause: err,
      details: { path },
    });
  }
  return new VmkitError('HostError', `Cannot listen on QMP socket ${path}: ${err.message}`, {
    cause: err,
    details: { path, errno: err.code },
  });
}

export class QmpListener {
  readonly path: string;
  readonly #server: net.Server;
  readonly #queue: net.Socket[] = [];
  readonly #waiters = new Set<AcceptWaiter>();
  #closing: Promise<void> | undefined;

  private constructor(path: string, server: net.Server) {
    this.path = path;
    this.#server = server;
    server.on('connection', (socket) => this.#onConnection(socket));
    // Errors after listening (rare: EMFILE on accept) must not crash the process; accept() keeps waiting.
    server.on('error', () => {});
  }

  /**
   * Listens on a new unix socket at `path` (absolute, at most 107 bytes) and sets its mode (default 0o600).
   * Between bind and chmod the file briefly has the umask's mode: the 0700 directory is what keeps other
   * users out, so put the socket in one.
   * Rejects with AlreadyExists if anything exists at `path`, NotFound if the directory is missing,
   * InvalidArgument for a bad path or mode.
   */
  static async listen(path: string, opts: { mode?: number } = {}): Promise<QmpListener> {
    checkSocketPath(path);
    const mode = opts.mode ?? 0o600;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
      throw new VmkitError('InvalidArgument', `Invalid mode ${String(mode)} for QMP socket ${path}: use permission bits such as 0o600`, {
        details: { path, mode },
      });
    }
    const server = net.createServer({ pauseOnConnect: true });
    const dir = dirname(path);
    const dirStat = await stat(dir).catch(() => undefined);
    if (dirStat === undefined || !dirStat.isDirectory()) {
      throw new VmkitError('NotFound', `Cannot listen on QMP socket ${path}: directory ${dir} does not exist; create it (mode 0700) first`, {
        details: { path },
      });
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => reject(listenError(path, err));
      server.once('error', onError);
      server.listen({ path, exclusive: true }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    try {
      await chmod(path, mode);
    } catch (e) {
      server.close();
      await unlink(path).catch(() => {});
      throw new VmkitError('HostError', `Cannot set mode ${mode.toString(8)} on QMP socket ${path}: ${(e as Error).message}`, {
        cause: e,
        details: { path, mode },
      });
    }
    return new QmpListener(path, server);
  }

  /**
   * Resolves with a negotiated client once QEMU has connected (or at once if it already has).
   * `timeoutMs` (default 30 s) and `signal` bound the whole wait: connection, greeting and negotiation.
   * Rejects with QmpClosed if the listener is closed meanwhile, Timeout, Aborted, or any error of
   * QmpClient.fromSocket().
   */
  async accept(opts: ClientOptions = {}): Promise<QmpClient> {
    const timeoutMs = checkTimeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
    if (this.#closing !== undefined) {
      throw qmpClosedError('before QEMU connected', `listener on ${this.path}`, { path: this.path });
    }
    const socket = await bounded<net.Socket>(
      { what: `waiting for QEMU to connect to ${this.path}`, timeoutMs, signal: opts.signal, details: { path: this.path } },
      (resolve, reject) => {
        const queued = this.#queue.shift();
        if (queued !== undefined) {
          resolve(queued);
          return;
        }
        const waiter: AcceptWaiter = { resolve, reject };
        this.#waiters.add(waiter);
        return () => this.#waiters.delete(waiter);
      },
    );
    const remaining = deadline === Infinity ? Infinity : Math.max(1, Math.ceil(deadline - performance.now()));
    return QmpClient.fromSocket(socket, { ...opts, timeoutMs: remaining, label: opts.label ?? this.path });
  }

  /** Stops listening, drops unaccepted connections and removes the socket file. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    for (const w of [...this.#waiters]) {
      w.reject(qmpClosedError('while waiting for QEMU to connect', `listener on ${this.path}`, { path: this.path }));
    }
    for (const s of this.#queue.splice(0)) s.destroy();
    // The callback would wait for accepted connections too; those belong to their clients.
    this.#server.close(() => {});
    try {
      if ((await lstat(this.path)).isSocket()) await unlink(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new VmkitError('HostError', `Cannot remove QMP socket ${this.path}: ${(e as Error).message}`, {
          cause: e,
          details: { path: this.path },
        });
      }
    }
  }

  #onConnection(socket: net.Socket): void {
    socket.on('error', () => {});
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    const [waiter] = this.#waiters;
    if (waiter !== undefined) {
      this.#waiters.delete(waiter);
      waiter.resolve(socket);
      return;
    }
    this.#queue.push(socket);
    socket.once('close', () => {
      const i = this.#queue.indexOf(socket);
      if (i >= 0) this.#queue.splice(i, 1);
    });
  }
}
