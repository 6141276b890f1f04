/**
 * The client transport against a raw HTTP/1.1 server on a unix socket that closes a kept-alive socket
 * while the client's event loop is busy: the next request goes out on the stale socket, fails before
 * any reply, and is sent again on a new socket. A request the server did receive is never sent twice.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Transport } from '../../src/api/transport.js';

interface Served {
  readonly path: string;
  readonly requests: string[];
  close(): Promise<void>;
}

/** Answers each request with 200 {"n":k}; `after(k, socket)` decides what happens to the socket next. */
async function serve(dir: string, after: (k: number, socket: net.Socket) => void): Promise<Served> {
  const path = join(dir, 's.sock');
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = '';
    socket.on('data', (c) => {
      buf += c.toString();
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        requests.push(head.split('\r\n')[0] ?? '');
        const k = requests.length;
        const body = JSON.stringify({ n: k });
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`);
        after(k, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function busyWait(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

test('a request on a socket the daemon closed as idle is sent again on a new socket', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-transport-'));
  // The first socket is closed 50 ms after the first reply (as the daemon closes an idle kept-alive socket).
  const srv = await serve(dir, (k, socket) => {
    if (k === 1) setTimeout(() => socket.destroy(), 50);
  });
  const t = new Transport(srv.path);
  try {
    assert.deepEqual(await t.request('GET', '/v1/a'), { n: 1 });
    busyWait(300); // the reset arrives, but this event loop has not seen it yet
    const second = await t.request<{ n: number }>('POST', '/v1/b', { x: 1 });
    // The server answered the request it received: exactly one more request line reached it.
    assert.equal(second.n, 2);
    assert.deepEqual(srv.requests, ['GET /v1/a HTTP/1.1', 'POST /v1/b HTTP/1.1']);
  } finally {
    t.close();
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a request whose reply was cut off is not sent again, and the error names the request', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-transport-'));
  const path = join(dir, 's.sock');
  let seen = 0;
  // Reads the request, then resets the connection without a reply: the daemon may have acted on it.
  const server = net.createServer((socket) => {
    socket.on('data', () => {
      seen++;
      socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const t = new Transport(path);
  try {
    await assert.rejects(t.request('POST', '/v1/domains/x/start', {}), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'HostError');
      assert.match(e.message, /POST \/v1\/domains\/x\/start/);
      return true;
    });
    assert.equal(seen, 1);
  } finally {
    t.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  }
});
