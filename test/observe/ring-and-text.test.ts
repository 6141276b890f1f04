/** The console ring buffer, the exposition writer, listen addresses, the web token and route grouping. */
import assert from 'node:assert/strict';
import type http from 'node:http';
import { describe, it } from 'node:test';
import { routeTemplate } from '../../src/api/routes-observe.js';
import { ConsoleRing, CONSOLE_RING_BYTES } from '../../src/driver/console-ring.js';
import { VmkitError } from '../../src/errors.js';
import { escapeLabelValue, formatValue, writeFamily } from '../../src/observe/exposition.js';
import { cookie, WebAuth } from '../../src/web/auth.js';
import { parseListenAddress } from '../../src/web/listen-address.js';

describe('the console ring buffer', () => {
  it('keeps everything below its limit, then exactly the last 256 KiB, oldest first, across wrap-arounds', () => {
    const ring = new ConsoleRing();
    assert.equal(ring.limit, 256 * 1024);
    assert.equal(ring.contents().length, 0);
    let all = Buffer.alloc(0);
    let n = 0;
    // Chunks of odd sizes, so that writes straddle the end of the buffer.
    while (all.length < 3 * CONSOLE_RING_BYTES + 12345) {
      const chunk = Buffer.from(`line ${n++} ${'x'.repeat(n % 977)}\n`);
      ring.push(chunk);
      all = Buffer.concat([all, chunk]);
      if (n === 5) assert.deepEqual(ring.contents(), all, 'everything while below the limit');
    }
    assert.equal(ring.length, CONSOLE_RING_BYTES);
    assert.deepEqual(ring.contents(), all.subarray(all.length - CONSOLE_RING_BYTES));
  });

  it('takes a chunk larger than itself (its tail) and starts over when cleared', () => {
    const ring = new ConsoleRing(8);
    ring.push(Buffer.from('abc'));
    ring.push(Buffer.from('0123456789XY'));
    assert.equal(ring.contents().toString(), '456789XY');
    ring.push(Buffer.from('z'));
    assert.equal(ring.contents().toString(), '56789XYz');
    ring.clear();
    assert.equal(ring.contents().length, 0);
    ring.push(Buffer.from('new'));
    assert.equal(ring.contents().toString(), 'new');
  });
});

describe('the exposition writer', () => {
  it('writes HELP, TYPE and one line per sample with escaped label values', () => {
    const text = writeFamily({ name: 'vmkit_x_total', help: 'A help with a \\ and\na newline.', type: 'counter', samples: [{ labels: { domain: 'a"b\\c\nd', disk: 'disk0' }, value: 1.5 }, { labels: {}, value: Infinity }] });
    assert.equal(text, '# HELP vmkit_x_total A help with a \\\\ and\\na newline.\n# TYPE vmkit_x_total counter\nvmkit_x_total{domain="a\\"b\\\\c\\nd",disk="disk0"} 1.5\nvmkit_x_total +Inf\n');
    assert.equal(escapeLabelValue('plain'), 'plain');
    assert.equal(formatValue(NaN), 'NaN');
    assert.equal(formatValue(-Infinity), '-Inf');
  });

  it('groups API requests by route, naming the domain {id}', () => {
    assert.equal(routeTemplate('/v1/domains/web1/start'), '/v1/domains/{id}/start');
    assert.equal(routeTemplate('/v1/domains'), '/v1/domains');
    assert.equal(routeTemplate('/v1/domains/x'), '/v1/domains/{id}');
    assert.equal(routeTemplate('/metrics'), '/metrics');
    assert.equal(routeTemplate('/v1/whatever/else'), 'other');
  });
});

describe('--web and --metrics addresses', () => {
  it('take HOST:PORT on loopback; another address only with --allow-non-loopback, saying why', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:8080', '--web'), { host: '127.0.0.1', port: 8080, loopback: true });
    assert.deepEqual(parseListenAddress('[::1]:0', '--web'), { host: '::1', port: 0, loopback: true });
    assert.deepEqual(parseListenAddress('localhost:9177', '--metrics'), { host: 'localhost', port: 9177, loopback: true });
    assert.throws(() => parseListenAddress('0.0.0.0:8080', '--web'), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument' && /--web 0\.0\.0\.0:8080 is not a loopback address: other hosts could reach it .*--allow-non-loopback/.test(e.message));
    assert.deepEqual(parseListenAddress('0.0.0.0:8080', '--web', true), { host: '0.0.0.0', port: 8080, loopback: false });
    for (const bad of ['8080', '127.0.0.1', '127.0.0.1:99999', '[zz]:1', 'a b:1', '127.0.0.1:-1']) {
      assert.throws(() => parseListenAddress(bad, '--metrics'), /--metrics/, bad);
    }
  });
});

describe('the web token', () => {
  const req = (headers: http.IncomingHttpHeaders): http.IncomingMessage => ({ headers }) as http.IncomingMessage;
  const auth = new WebAuth('s3cret-token', 8080, true);

  it('is accepted as a bearer token or in the port\'s cookie, and nothing else is', () => {
    assert.equal(auth.authorized(req({ authorization: 'Bearer s3cret-token' })), true);
    assert.equal(auth.authorized(req({ cookie: 'other=1; vmkit_web_8080=s3cret-token' })), true);
    assert.equal(auth.authorized(req({ cookie: 'vmkit_web_8081=s3cret-token' })), false);
    assert.equal(auth.authorized(req({ authorization: 'Bearer s3cret-tokeN' })), false);
    assert.equal(auth.authorized(req({ authorization: 'Bearer ' })), false);
    assert.equal(auth.authorized(req({})), false);
    assert.equal(auth.matches('s3cret-token-and-more'), false);
    assert.match(auth.loginCookie('t'), /^vmkit_web_8080=t; HttpOnly; SameSite=Strict; Path=\/$/);
    assert.equal(cookie('a=1; b = 2', 'b'), '2');
  });

  it('refuses other host names (DNS rebinding) and other origins (cross-site requests)', () => {
    assert.equal(auth.originProblem(req({ host: '127.0.0.1:8080' })), undefined);
    assert.equal(auth.originProblem(req({ host: 'localhost:8080', origin: 'http://localhost:8080' })), undefined);
    assert.match(auth.originProblem(req({ host: 'evil.example:8080' })) ?? '', /Host 'evil\.example:8080' is not this loopback server/);
    assert.match(auth.originProblem(req({ host: '127.0.0.1:9999' })) ?? '', /not this loopback server/);
    assert.match(auth.originProblem(req({ host: '127.0.0.1:8080', origin: 'http://evil.example' })) ?? '', /Origin 'http:\/\/evil\.example' is not this server's/);
    const open = new WebAuth('t', 8080, false);
    assert.equal(open.originProblem(req({ host: 'vm-host.lan:8080' })), undefined);
  });
});
