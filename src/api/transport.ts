/** HTTP/JSON over the daemon's unix socket: requests, long-lived streams and console upgrades, each bounded. */
import http from 'node:http';
import type { Socket } from 'node:net';
import { VmkitError } from '../errors.js';
import { errorFromBody } from './http-errors.js';
import { verifiedConnection } from './server-check.js';

export interface RequestOptions {
  /** Bound on the whole request (default 120 s). */
  readonly timeoutMs?: number;
}

/** How long an idle kept-alive socket stays open on the client side (the daemon closes them after 30 s). */
const IDLE_SOCKET_MS = 10_000;

export class Transport {
  private readonly agent: http.Agent;
  private readonly connectVerified: ReturnType<typeof verifiedConnection>;

  constructor(readonly socketPath: string) {
    // Enough sockets that hundreds of concurrent operations are not queued on the client side.
    // Idle sockets are closed here after 10 s, well before the daemon's 30 s, so that a busy client
    // rarely picks a socket the daemon is closing.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 512, timeout: IDLE_SOCKET_MS });
    // Every new connection is checked (the server runs as root or as us) before a request is written on it.
    this.connectVerified = verifiedConnection(socketPath);
    this.agent.createConnection = this.connectVerified as http.Agent['createConnection'];
  }

  /**
   * Sends a request and resolves with the parsed JSON reply; rejects with the daemon's error as a VmkitError.
   * A request that fails on a kept-alive socket the daemon had just closed as idle (ECONNRESET or EPIPE
   * before any reply: the daemon never read it) is sent once more on a new socket.
   */
  async request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const deadline = performance.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(method, path, payload, Math.max(1, deadline - performance.now()), timeoutMs);
      } catch (e) {
        if (!(e instanceof StaleSocket) || attempt >= 2) throw e instanceof StaleSocket ? this.unreachable(e.cause, method, path) : e;
      }
    }
  }

  private once<T>(method: string, path: string, payload: string | undefined, leftMs: number, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let answered = false;
      const req = http.request(
        {
          socketPath: this.socketPath,
          agent: this.agent,
          method,
          path,
          headers: payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(this.unreachable(e, method, path)));
          res.on('end', () => {
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              reject(new VmkitError('Internal', `The vmkit daemon sent a reply to ${method} ${path} that is not JSON (HTTP ${res.statusCode ?? '?'})`));
              return;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(parsed as T);
            else reject(errorFromBody(status, parsed));
          });
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        reject(new VmkitError('Timeout', `The vmkit daemon did not answer ${method} ${path} within ${timeoutMs} ms`, { details: { method, path, timeoutMs } }));
      }, leftMs);
      req.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const stale = req.reusedSocket && !answered && (e.code === 'ECONNRESET' || e.code === 'EPIPE');
        reject(stale ? new StaleSocket(e) : this.unreachable(e, method, path));
      });
      req.end(payload);
    });
  }

  /** Opens a long-lived GET (an event stream); resolves once the daemon answered 200. */
  stream(path: string, timeoutMs = 10_000): Promise<{ res: http.IncomingMessage; req: http.ClientRequest }> {
    return new Promise((resolve, reject) => {
      // A stream holds its socket for good: keep it out of the request pool.
      // No agent (agent: false would make a fresh one, which ignores createConnection): the socket is this request's.
      const req = http.request({ socketPath: this.socketPath, method: 'GET', path, createConnection: this.connectVerified as http.ClientRequestArgs['createConnection'] }, (res) => {
        clearTimeout(timer);
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let body: unknown;
            try {
              body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              body = undefined;
            }
            reject(errorFromBody(res.statusCode ?? 0, body));
          });
          return;
        }
        resolve({ res, req });
      });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new VmkitError('Timeout', `The vmkit daemon did not open ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(this.unreachable(e, 'GET', path));
      });
      req.end();
    });
  }

  /** Upgrades GET `path` to a raw byte stream (the console). */
  upgrade(path: string, protocol: string, timeoutMs = 10_000): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        socketPath: this.socketPath,
        method: 'GET',
        path,
        createConnection: this.connectVerified as http.ClientRequestArgs['createConnection'],
        headers: { Connection: 'Upgrade', Upgrade: protocol },
      });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new VmkitError('Timeout', `The vmkit daemon did not open ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
        clearTimeout(timer);
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => {
        clearTimeout(timer);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            body = undefined;
          }
          reject(errorFromBody(res.statusCode ?? 0, body));
        });
      });
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(this.unreachable(e, 'GET', path));
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private unreachable(e: unknown, method?: string, path?: string): VmkitError {
    if (e instanceof VmkitError) return e; // the server check's own refusal
    const err = e as NodeJS.ErrnoException;
    const hint =
      err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
        ? ': no daemon runs there (start one with `vmkit daemon`)'
        : err.code === 'EACCES'
          ? ': permission denied (the socket is for root and the vmkit group, or its owner in session mode)'
          : `: ${err.message}`;
    // Which request failed matters once connected (a dropped reply), not when there is no daemon at all.
    const connectError = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'EACCES';
    const what = method === undefined || connectError ? '' : ` (${method} ${path ?? ''})`;
    return new VmkitError('HostError', `Cannot reach the vmkit daemon at ${this.socketPath}${what}${hint}`, {
      cause: e,
      details: { socket: this.socketPath, errno: err.code, ...(method === undefined ? {} : { method, path }) },
    });
  }
}

/** A request lost on a kept-alive socket the daemon closed as idle before reading it. */
class StaleSocket extends Error {
  constructor(override readonly cause: NodeJS.ErrnoException) {
    super(cause.message);
  }
}
