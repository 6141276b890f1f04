/**
 * QmpClient: one negotiated QMP connection to QEMU.
 *
 * - Obtain one with `QmpClient.fromSocket()` (any connected socket: the listener direction hands sockets
 *   over this way) or `QmpClient.connect(path)` (QEMU started with `-qmp unix:PATH,server=on,wait=off`).
 *   Both read the greeting and send `qmp_capabilities` before resolving.
 * - `execute()` sends a command with a unique numeric id and resolves with its `return` value. Commands may
 *   be issued concurrently; each reply is matched by id. QEMU runs them one at a time, in order.
 * - Every wait is bounded: `timeoutMs` (default 30 s, `Infinity` for none) and an optional AbortSignal.
 *   A timed-out or aborted command may still run in QEMU; its late reply is ignored.
 * - Events are emitted as 'event' in the order QEMU sent them. `waitForEvent()` only sees events that
 *   arrive after it is called: start waiting *before* the command that causes the event, e.g.
 *   `const stopped = qmp.waitForEvent('STOP'); await qmp.execute('stop'); await stopped;`.
 * - 'close' is emitted once, after the socket has closed. Its argument is an error only when the
 *   connection broke (a socket error, or QEMU sent something that is not JSON); it is absent after
 *   `close()` or when QEMU hung up (EOF, or ECONNRESET/EPIPE as QEMU exits, e.g. after `quit`).
 *   Pending calls reject with QmpClosed, whose cause is the socket error if there was one.
 * - 'unexpected' carries well-formed messages that fit nowhere (replies with unknown ids, odd shapes).
 *
 * Errors are VmkitError: QmpError (QEMU refused the command; details.class / details.desc), QmpClosed,
 * Timeout, Aborted, InvalidArgument, NotFound / HostError (connect only).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { VmkitError } from '../errors.js';
import { bounded, checkTimeout, DEFAULT_TIMEOUT_MS } from './bounded.js';
import { qmpClosedError, qmpCommandError } from './errors.js';
import { encodeCommand, LineSplitter, parseMessage, type QmpEvent, type QmpGreeting, type QmpMessage } from './protocol.js';

/** Bounds for one wait. `timeoutMs` defaults to the client's default (30 s); `Infinity` disables it. */
export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Options for opening a client. `timeoutMs` and `signal` bound the whole opening (connect, greeting, negotiation). */
export interface ClientOptions extends CallOptions {
  /** Capabilities to enable in `qmp_capabilities` (for example ["oob"]); none by default. */
  capabilities?: string[];
  /** Default bound for later execute()/waitForEvent() calls; 30000 unless set. */
  defaultTimeoutMs?: number;
  /** Names the connection in error messages (the socket path, usually). */
  label?: string;
}

export interface QmpClientEvents {
  event: [event: QmpEvent];
  close: [error?: Error];
  unexpected: [message: unknown];
}

interface PendingCall {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface EventWaiter {
  name: string;
  filter: ((e: QmpEvent) => boolean) | undefined;
  resolve: (e: QmpEvent) => void;
  reject: (error: unknown) => void;
}

/**
 * Socket errors that only mean QEMU went away: a unix socket reports ECONNRESET instead of EOF when QEMU
 * exits with unread input. They end the connection like EOF does, without a 'close' error.
 */
const HANGUP_CODES = new Set(['ECONNRESET', 'EPIPE']);

function remainingMs(deadline: number): number {
  return deadline === Infinity ? Infinity : Math.max(1, Math.ceil(deadline - performance.now()));
}

/** Rethrows a listener's exception outside our stream handling, like an unhandled EventEmitter throw. */
function rethrowLater(e: unknown): void {
  process.nextTick(() => {
    throw e;
  });
}

export class QmpClient extends EventEmitter<QmpClientEvents> {
  readonly #socket: net.Socket;
  readonly #where: string;
  readonly #defaultTimeoutMs: number;
  readonly #splitter = new LineSplitter();
  readonly #pending = new Map<number, PendingCall>();
  readonly #eventWaiters = new Set<EventWaiter>();
  #nextId = 0;
  #greeting: QmpGreeting | undefined;
  #greetingWaiter: { resolve: (g: QmpGreeting) => void; reject: (e: unknown) => void } | undefined;
  #closed = false;
  /** Why the connection ended, if an error says so; passed as the cause of QmpClosed rejections. */
  #closeCause: Error | undefined;
  /** True when the end was abnormal: then 'close' carries an error. */
  #broken = false;
  #socketClosed = false;
  readonly #closedPromise: Promise<void>;
  #resolveClosed!: () => void;

  private constructor(socket: net.Socket, opts: ClientOptions) {
    super();
    this.#socket = socket;
    this.#where = opts.label === undefined ? 'to QEMU' : `to ${opts.label}`;
    this.#defaultTimeoutMs = checkTimeout(opts.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.#closedPromise = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => this.#shutdown(err, !HANGUP_CODES.has(err.code ?? '')));
    socket.on('end', () => this.#shutdown(undefined));
    socket.on('close', () => this.#onSocketClose());
    if (socket.destroyed) {
      this.#shutdown(undefined);
      if (socket.closed) process.nextTick(() => this.#onSocketClose());
    } else {
      socket.resume();
    }
  }

  /**
   * Takes over a connected socket: reads QEMU's greeting, sends `qmp_capabilities` and resolves with a
   * ready client. On failure the socket is destroyed. `timeoutMs`/`signal` bound the whole handshake.
   */
  static async fromSocket(socket: net.Socket, opts: ClientOptions = {}): Promise<QmpClient> {
    let client: QmpClient;
    let timeoutMs: number;
    try {
      timeoutMs = checkTimeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      client = new QmpClient(socket, opts);
    } catch (e) {
      socket.destroy();
      throw e;
    }
    const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
    try {
      await client.#waitForGreeting({ timeoutMs, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
      const caps = opts.capabilities ?? [];
      await client.execute('qmp_capabilities', caps.length > 0 ? { enable: caps } : undefined, {
        timeoutMs: remainingMs(deadline),
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
    } catch (e) {
      await client.close();
      throw e;
    }
    return client;
  }

  /**
   * Connects to QEMU's QMP server socket (`-qmp unix:PATH,server=on,wait=off`) and negotiates.
   * Rejects with NotFound if nothing exists at `path`, HostError if the connection is refused.
   * QEMU serves one QMP client per socket at a time; a second client gets no greeting and times out.
   */
  static async connect(path: string, opts: ClientOptions = {}): Promise<QmpClient> {
    const timeoutMs = checkTimeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
    const socket = net.createConnection({ path });
    // Keeps an early error from becoming an uncaught exception between the connect and the handover.
    socket.on('error', () => {});
    try {
      await bounded<void>(
        { what: `connecting to QMP socket ${path}`, timeoutMs, signal: opts.signal, details: { path } },
        (resolve, reject) => {
          const onError = (err: NodeJS.ErrnoException): void => reject(connectError(path, err));
          socket.once('connect', () => resolve());
          socket.once('error', onError);
          return () => socket.off('error', onError);
        },
      );
    } catch (e) {
      socket.destroy();
      throw e;
    }
    return QmpClient.fromSocket(socket, { ...opts, timeoutMs: remainingMs(deadline), label: opts.label ?? path });
  }

  /** QEMU's greeting (version and offered capabilities). */
  get greeting(): QmpGreeting {
    if (this.#greeting === undefined) throw new VmkitError('Internal', 'QMP greeting read before it arrived');
    return this.#greeting;
  }

  /** True once the connection is closed or closing; execute() then rejects with QmpClosed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs one QMP command and resolves with its `return` value (typed by the caller as T; not checked).
   * Rejects with QmpError when QEMU answers with an error, QmpClosed, Timeout or Aborted.
   */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, opts: CallOptions = {}): Promise<T> {
    if (typeof command !== 'string' || command === '') {
      return Promise.reject(
        new VmkitError('InvalidArgument', `Invalid QMP command name ${JSON.stringify(command)}: use a non-empty string such as 'query-status'`),
      );
    }
    if (this.#closed) {
      return Promise.reject(
        qmpClosedError(`before QMP command '${command}' could be sent`, this.#where, { command }, this.#closeCause),
      );
    }
    return bounded<T>(
      {
        what: `waiting for the reply to QMP command '${command}'`,
        timeoutMs: opts.timeoutMs ?? this.#defaultTimeoutMs,
        signal: opts.signal,
        details: { command },
      },
      (resolve, reject) => {
        const id = ++this.#nextId;
        this.#pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject });
        this.#socket.write(encodeCommand(command, id, args));
        return () => this.#pending.delete(id);
      },
    );
  }

  /**
   * Resolves with the next event named `name` (and accepted by `filter`, if given) that arrives after
   * this call. Rejects with QmpClosed, Timeout or Aborted; with the filter's exception if it throws.
   */
  waitForEvent(name: string, opts: CallOptions & { filter?: (e: QmpEvent) => boolean } = {}): Promise<QmpEvent> {
    if (this.#closed) {
      return Promise.reject(
        qmpClosedError(`before waiting for QMP event '${name}'`, this.#where, { event: name }, this.#closeCause),
      );
    }
    return bounded<QmpEvent>(
      {
        what: `waiting for QMP event '${name}'`,
        timeoutMs: opts.timeoutMs ?? this.#defaultTimeoutMs,
        signal: opts.signal,
        details: { event: name },
      },
      (resolve, reject) => {
        const waiter: EventWaiter = { name, filter: opts.filter, resolve, reject };
        this.#eventWaiters.add(waiter);
        return () => this.#eventWaiters.delete(waiter);
      },
    );
  }

  /**
   * Closes the connection and resolves once the socket is closed. Idempotent. Pending calls and event
   * waits reject with QmpClosed.
   */
  close(): Promise<void> {
    this.#shutdown(undefined);
    return this.#closedPromise;
  }

  #waitForGreeting(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<QmpGreeting> {
    if (this.#greeting !== undefined) return Promise.resolve(this.#greeting);
    if (this.#closed) {
      return Promise.reject(qmpClosedError('before QEMU sent the QMP greeting', this.#where, {}, this.#closeCause));
    }
    return bounded<QmpGreeting>(
      {
        what: `waiting for the QMP greeting ${this.#where.replace(/^to /, 'from ')} (QEMU serves one QMP client at a time)`,
        timeoutMs: opts.timeoutMs,
        signal: opts.signal,
        details: {},
      },
      (resolve, reject) => {
        this.#greetingWaiter = { resolve, reject };
        return () => {
          this.#greetingWaiter = undefined;
        };
      },
    );
  }

  #onData(chunk: string): void {
    if (this.#closed) return;
    let lines: string[];
    try {
      lines = this.#splitter.push(chunk);
    } catch (e) {
      this.#shutdown(e as Error);
      return;
    }
    for (const line of lines) {
      if (this.#closed) return;
      let msg: QmpMessage;
      try {
        msg = parseMessage(line);
      } catch (e) {
        this.#shutdown(e as Error);
        return;
      }
      this.#dispatch(msg);
    }
  }

  #dispatch(msg: QmpMessage): void {
    switch (msg.kind) {
      case 'greeting':
        if (this.#greeting !== undefined) return this.#unexpected(msg);
        this.#greeting = msg.greeting;
        this.#greetingWaiter?.resolve(msg.greeting);
        return;
      case 'return':
      case 'error': {
        const call = typeof msg.id === 'number' ? this.#pending.get(msg.id) : undefined;
        if (call === undefined) return this.#unexpected(msg);
        if (msg.kind === 'return') call.resolve(msg.value);
        else call.reject(qmpCommandError(call.command, msg.errorClass, msg.desc));
        return;
      }
      case 'event':
        return this.#deliverEvent(msg.event);
      case 'unknown':
        return this.#unexpected(msg);
    }
  }

  #deliverEvent(event: QmpEvent): void {
    try {
      this.emit('event', event);
    } catch (e) {
      rethrowLater(e);
    }
    for (const w of [...this.#eventWaiters]) {
      if (w.name !== event.event) continue;
      let match: boolean;
      try {
        match = w.filter === undefined || w.filter(event);
      } catch (e) {
        w.reject(e);
        continue;
      }
      if (match) w.resolve(event);
    }
  }

  #unexpected(msg: QmpMessage): void {
    const raw = msg.kind === 'unknown' ? msg.raw : msg;
    try {
      this.emit('unexpected', raw);
    } catch (e) {
      rethrowLater(e);
    }
  }

  /**
   * Marks the client closed, rejects everything pending and destroys the socket. Runs once. `broken`
   * says whether 'close' reports an error (a reset by a peer that exited is not one).
   */
  #shutdown(cause: Error | undefined, broken: boolean = cause !== undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeCause = cause;
    this.#broken = broken;
    for (const call of [...this.#pending.values()]) {
      call.reject(
        qmpClosedError(`while waiting for the reply to QMP command '${call.command}'`, this.#where, { command: call.command }, cause),
      );
    }
    for (const w of [...this.#eventWaiters]) {
      w.reject(qmpClosedError(`while waiting for QMP event '${w.name}'`, this.#where, { event: w.name }, cause));
    }
    this.#greetingWaiter?.reject(qmpClosedError('before QEMU sent the QMP greeting', this.#where, {}, cause));
    this.#socket.destroy();
  }

  #onSocketClose(): void {
    this.#shutdown(undefined);
    if (this.#socketClosed) return;
    this.#socketClosed = true;
    this.#resolveClosed();
    const cause = this.#closeCause;
    try {
      if (cause === undefined || !this.#broken) this.emit('close');
      else this.emit('close', new VmkitError('QmpClosed', `QMP connection ${this.#where} broke: ${cause.message}`, { cause }));
    } catch (e) {
      rethrowLater(e);
    }
  }
}

function connectError(path: string, err: NodeJS.ErrnoException): VmkitError {
  if (err.code === 'ENOENT') {
    return new VmkitError('NotFound', `Cannot connect to QMP socket ${path}: it does not exist; is QEMU running with -qmp unix:${path},server=on?`, {
      cause: err,
      details: { path },
    });
  }
  const hint = err.code === 'ECONNREFUSED' ? ': nothing is listening (QEMU has probably exited; remove the stale socket)' : `: ${err.message}`;
  return new VmkitError('HostError', `Cannot connect to QMP socket ${path}${hint}`, { cause: err, details: { path, errno: err.code } });
}
