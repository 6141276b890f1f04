/**
 * Opening a repository URL as a stream: `http:`/`https:` (through a proxy when configured; HTTPS through
 * one with CONNECT), and `file:` (local repositories). Ranges for resumed downloads; redirects followed
 * (at most 5, never to another scheme than http/https); every wait bounded (connection and idle time-outs,
 * an AbortSignal).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { VmkitError } from '../errors.js';
import { proxyFor } from './proxy.js';
import type { ProxyMode } from './repo-config.js';

export interface OpenOptions {
  readonly proxy?: ProxyMode;
  /** Ask for the bytes from this offset on (a resumed download). */
  readonly offset?: number;
  readonly signal?: AbortSignal;
  /** No byte for this long fails the transfer (default 60 s). */
  readonly idleMs?: number;
}

export interface Opened {
  readonly body: Readable;
  /** Where the body starts: `offset` when the server honoured the range, else 0. */
  readonly start: number;
  /** The whole file's size, when known. */
  readonly total?: number;
  /** The final URL (after redirects). */
  readonly url: string;
}

const MAX_REDIRECTS = 5;

/** Opens `url` for reading (see OpenOptions). Rejects with a VmkitError naming the URL. */
export async function openUrl(url: string, opts: OpenOptions = {}): Promise<Opened> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new VmkitError('InvalidArgument', `Invalid URL ${JSON.stringify(url)}`, { details: { url } });
  }
  if (target.protocol === 'file:') return openFile(target, opts);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new VmkitError('InvalidArgument', `Cannot download ${url}: vmkit reads http://, https:// and file:// URLs`, { details: { url } });
  }
  for (let hop = 0; ; hop++) {
    const res = await request(target, opts);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location !== undefined) {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new VmkitError('HostError', `Cannot download ${url}: more than ${MAX_REDIRECTS} redirects`, { details: { url } });
      const next = new URL(res.headers.location, target);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new VmkitError('HostError', `Cannot download ${url}: redirected to ${next.protocol} (only http and https are followed)`, { details: { url } });
      target = next;
      continue;
    }
    const offset = opts.offset ?? 0;
    if (status === 416 && offset > 0) {
      // The range starts at or past the end: the server has no more bytes than we do. Start again.
      res.resume();
      return openUrl(target.href, { ...opts, offset: 0 });
    }
    if (status !== 200 && status !== 206) {
      res.resume();
      throw new VmkitError(status === 404 ? 'NotFound' : 'HostError', `Cannot download ${target.href}: HTTP ${status} ${res.statusMessage ?? ''}`.trim(), { details: { url: target.href, status } });
    }
    let start = 0;
    let total: number | undefined;
    if (status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
      if (m === null || Number(m[1]) !== offset) {
        res.destroy();
        throw new VmkitError('HostError', `Cannot resume ${target.href}: the server answered a range request with Content-Range ${JSON.stringify(res.headers['content-range'] ?? '')}`, { details: { url: target.href } });
      }
      start = offset;
      if (m[3] !== '*') total = Number(m[3]);
    } else {
      const len = Number(res.headers['content-length']);
      if (Number.isSafeInteger(len) && len >= 0) total = len;
    }
    guardIdle(res, opts.idleMs ?? 60_000, target.href);
    return { body: res, start, ...(total === undefined ? {} : { total }), url: target.href };
  }
}

async function openFile(target: URL, opts: OpenOptions): Promise<Opened> {
  const path = fileURLToPath(target);
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EINVAL' });
    size = st.size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VmkitError(code === 'ENOENT' ? 'NotFound' : 'HostError', `Cannot read ${target.href}: ${(e as Error).message}`, { cause: e, details: { url: target.href } });
  }
  const start = Math.min(opts.offset ?? 0, size);
  const body = createReadStream(path, { start, highWaterMark: 1024 * 1024, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
  return { body, start, total: size, url: target.href };
}

function request(target: URL, opts: OpenOptions): Promise<http.IncomingMessage> {
  const proxy = proxyFor(target, opts.proxy ?? { kind: 'system' });
  const headers: Record<string, string> = { 'User-Agent': 'vmkit', Accept: '*/*' };
  if ((opts.offset ?? 0) > 0) headers.Range = `bytes=${opts.offset}-`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const err = e as NodeJS.ErrnoException;
      reject(e instanceof VmkitError ? e : new VmkitError(opts.signal?.aborted === true ? 'Aborted' : 'HostError', `Cannot download ${target.href}${proxy === undefined ? '' : ` (through the proxy ${proxy.host})`}: ${err.message}`, { cause: e, details: { url: target.href, errno: err.code } }));
    };
    const onResponse = (res: http.IncomingMessage): void => {
      if (settled) {
        res.destroy();
        return;
      }
      settled = true;
      clearTimeout(timer);
      resolve(res);
    };
    const common = { headers, ...(opts.signal === undefined ? {} : { signal: opts.signal }) };
    let req: http.ClientRequest;
    if (proxy === undefined) {
      req = (target.protocol === 'https:' ? https : http).request(target, common, onResponse);
    } else if (target.protocol === 'http:') {
      req = http.request({ host: proxy.hostname, port: Number(proxy.port || 80), method: 'GET', path: target.href, ...common, headers: { ...headers, Host: target.host, ...proxyAuth(proxy) } }, onResponse);
    } else {
      // HTTPS through the proxy: a CONNECT tunnel, then TLS to the target over it.
      req = http.request({ host: proxy.hostname, port: Number(proxy.port || 80), method: 'CONNECT', path: `${target.hostname}:${target.port || 443}`, headers: { Host: `${target.hostname}:${target.port || 443}`, ...proxyAuth(proxy) }, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
      req.once('connect', (res, socket) => {
        if (res.statusCode !== 200) {
          socket.destroy();
          fail(new Error(`the proxy refused the tunnel: HTTP ${res.statusCode ?? '?'}`));
          return;
        }
        const inner = https.request(target, { ...common, createConnection: () => tls.connect({ socket, servername: target.hostname }) }, onResponse);
        inner.once('error', fail);
        inner.end();
      });
    }
    const timer = setTimeout(() => {
      req.destroy();
      fail(new VmkitError('Timeout', `Cannot download ${target.href}: no answer within 30 s`, { details: { url: target.href } }));
    }, 30_000);
    req.once('error', fail);
    req.end();
  });
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (proxy.username === '') return {};
  return { 'Proxy-Authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` };
}

/** Fails the stream when no byte comes for `ms`. */
function guardIdle(res: http.IncomingMessage, ms: number, url: string): void {
  res.setTimeout(ms, () => res.destroy(new VmkitError('Timeout', `Download of ${url} stalled: no data for ${Math.round(ms / 1000)} s`, { details: { url } })));
}

/** Reads a whole (small) URL into memory, at most `maxBytes`. */
export async function fetchBytes(url: string, opts: OpenOptions & { maxBytes?: number } = {}): Promise<Buffer> {
  const { body } = await openUrl(url, opts);
  const max = opts.maxBytes ?? 64 * 1024 * 1024;
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) {
      body.destroy();
      throw new VmkitError('HostError', `${url} is larger than ${max} bytes`, { details: { url } });
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
