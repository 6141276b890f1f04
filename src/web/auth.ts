/**
 * The web dashboard's credential: one random token per daemon start, printed once. A browser trades it for
 * a cookie at `/login?token=...` (then the URL is left behind by a redirect); scripts send it as
 * `Authorization: Bearer`. Compared in constant time (SHA-256 of both, then timingSafeEqual, so that the
 * length does not leak either). Requests must come to the host name the server listens as (no DNS
 * rebinding) and, from a browser, from its own origin (no cross-site requests or websockets).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { isLoopbackHost } from './listen-address.js';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export class WebAuth {
  private readonly digest: Buffer;
  /** Cookies are not kept apart by port: the name carries it, so two daemons on one host do not clash. */
  readonly cookieName: string;

  constructor(token: string, private readonly port: number, private readonly loopback: boolean) {
    this.digest = sha256(token);
    this.cookieName = `vmkit_web_${port}`;
  }

  matches(candidate: string | undefined): boolean {
    if (candidate === undefined || candidate === '') return false;
    return timingSafeEqual(sha256(candidate), this.digest);
  }

  /** The token a request carries (Authorization: Bearer, else the cookie), checked. */
  authorized(req: http.IncomingMessage): boolean {
    const auth = req.headers.authorization;
    if (auth !== undefined && auth.startsWith('Bearer ')) return this.matches(auth.slice('Bearer '.length).trim());
    return this.matches(cookie(req.headers.cookie, this.cookieName));
  }

  /** The Set-Cookie value that logs a browser in. */
  loginCookie(token: string): string {
    return `${this.cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`;
  }

  /**
   * Why the request's Host or Origin is refused, or undefined. On loopback the Host must be a loopback name
   * with our port (a DNS-rebound name is not); a browser's Origin must be the page's own.
   */
  originProblem(req: http.IncomingMessage): string | undefined {
    const host = req.headers.host ?? '';
    if (this.loopback) {
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
      if (m?.[1] === undefined || !isLoopbackHost(m[1]) || Number(m[2] ?? 80) !== this.port) return `Host '${host}' is not this loopback server`;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}`) return `Origin '${origin}' is not this server's (http://${host})`;
    return undefined;
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** One cookie's value from a Cookie header. */
export function cookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
