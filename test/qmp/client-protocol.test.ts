/** QmpClient against a fake QEMU built with node:net, for protocol edge cases QEMU will not produce on demand. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { VmkitError } from '../../src/errors.js';
import { QmpClient, type QmpEvent } from '../../src/qmp/index.js';
import { QmpParseError } from '../../src/qmp/protocol.js';
import { fakeServer, GREETING, rejectsWithCode, tempDir } from './helpers.js';

const ev = (event: string, n: number): Record<string, unknown> => ({
  event,
  data: { n },
  timestamp: { seconds: 1, microseconds: n },
});

test('connect() reads a greeting delivered one byte at a time and negotiates capabilities', async (t) => {
  const path = join(await tempDir(t), 'q.sock');
  const fake = await fakeServer(t, path, { greet: false });
  const connecting = QmpClient.connect(path, { capabilities: ['oob'], timeoutMs: 5000 });
  const conn = await fake.nextConn();
  for (const ch of `${JSON.stringify(GREETING)}\r\n`) {
    conn.socket.write(ch);
    await new Promise((r) => setImmediate(r));
  }
  const qmp = await connecting;
  t.after(() => qmp.close());
  assert.deepEqual(qmp.greeting.version.qemu, { major: 7, minor: 2, micro: 0 });
  assert.deepEqual(qmp.greeting.capabilities, ['oob']);
  assert.equal(qmp.closed, false);
});

test('qmp_capabilities enables the requested capabilities, and none by default', async (t) => {
  const dir = await tempDir(t);
  const firstLine = async (path: string, caps?: string[]): Promise<string> => {
    const raw: string[] = [];
    const { server } = await fakeServer(t, path);
    server.on('connection', (s) => s.on('data', (d: Buffer | string) => raw.push(String(d))));
    const qmp = await QmpClient.connect(path, caps === undefined ? {} : { capabilities: caps });
    await qmp.close();
    return raw.join('').split('\n')[0] ?? '';
  };
  assert.equal(await firstLine(join(dir, 'a.sock'), ['oob']), '{"execute":"qmp_capabilities","arguments":{"enable":["oob"]},"id":1}');
  assert.equal(await firstLine(join(dir, 'b.sock')), '{"execute":"qmp_capabilities","id":1}');
});

test('a reply split mid-character across chunks and several messages in one chunk are all decoded in order', async (t) => {
  const path = join(await tempDir(t), 'q.sock');
  const fake = await fakeServer(t, path);
  const qmp = await QmpClient.connect(path);
  t.after(() => qmp.close());
  const conn = await fake.nextConn();
  const events: QmpEvent[] = [];
  qmp.on('event', (e) => events.push(e));

  const lastEvent = qmp.waitForEvent('C', { timeoutMs: 2000 });
  const p = qmp.execute<{ name: string }>('qom-get');
  const cmd = await conn.nextCommand('qom-get');
  const bytes = Buffer.from(`${JSON.stringify(ev('A', 1))}\r\n${JSON.stringify({ return: { name: 'ünïcødé ✓' }, id: cmd['id'] })}\r\n`);
  const cut = bytes.indexOf(Buffer.from('✓')) + 1; // inside the 3-byte sequence
  conn.socket.write(bytes.subarray(0, cut));
  await new Promise((r) => setTimeout(r, 20));
  conn.socket.write(Buffer.concat([bytes.subarray(cut), Buffer.from(`${JSON.stringify(ev('B', 2))}\n${JSON.stringify(ev('C', 3))}\n`)]));
  assert.deepEqual(await p, { name: 'ünïcødé ✓' });
  await lastEvent;
  assert.deepEqual(
    events.map((e) => [e.event, e.data['n']]),
    [
      ['A', 1],
      ['B', 2],
      ['C', 3],
    ],
  );
  assert.deepEqual(events[0]?.timestamp, { seconds: 1, microseconds: 1 });
});

test('pipelined commands answered out of order each get their own reply; an unknown id is ignored', async (t) => {
  const path = join(await tempDir(t), 'q.sock');
  const fake = await fakeServer(t, path);
  const qmp = await QmpClient.connect(path);
  t.after(() => qmp.close());
  const conn = await fake.nextConn();
  const unexpected: unknown[] = [];
  qmp.on('unexpected', (m) => unexpected.push(m));
  const calls = [qmp.execute('one'), qmp.execute('two'), qmp.execute('three')];
  const cmds = [await conn.nextCommand('one'), await conn.nextCommand('two'), await conn.nextCommand('three')];
  assert.equal(new Set(cmds.map((c) => c['id'])).size, 3, 'ids are unique');
  conn.send({ return: 'stray', id: 999 });
  conn.send({ return: 'stray', id: 'not-ours' });
  conn.send({ return: 3, id: cmds[2]?.['id'] });
  conn.send({ return: 1, id: cmds[0]?.['id'] });
  conn.send({ return: 2, id: cmds[1]?.['id'] });
  assert.deepEqual(await Promise.all(calls), [1, 2, 3]);
  assert.equal(unexpected.length, 2);
  assert.equal(qmp.closed, false);
});

test('an error reply rejects with QmpError carrying class and desc', async (t) => {
  const path = join(await tempDir(t), 'q.sock');
  const fake = await fakeServer(t, path, {
    onCommand: (cmd, conn) => conn.send({ error: { class: 'GenericError', desc: 'VM is not running' }, id: cmd['id'] }),
  });
  const qmp = await QmpClient.connect(path);
  t.after(() => qmp.close());
  await fake.nextConn();
  const err = await rejectsWithCode(qmp.execute('cont'), 'QmpError');
  assert.ok(err instanceof VmkitError);
  assert.equal(err.message, "QMP command 'cont' failed: VM is not running (GenericError)");
  assert.deepEqual(err.details, { command: 'cont', class: 'GenericError', desc: 'VM is not running' });
});

test('a command with no reply times out with Timeout naming the command and the ms, and the client stays usable', async (t) => {
  const path = join(await tempDir(t), 'q.sock');
  const fake = await fakeServer(t, path);
  const qmp = await QmpClient.connect(path);
  t.after(() => qmp.close());
  const conn = await fake.nextConn();
  const err = await rejectsWithCode(qmp.execute('slow', undefined, { timeoutMs: 30 }), 'Timeout');
  assert.match(err.message, /30 ms/);
  assert.match(err.message, /'slow'/);
  assert.deepEqual(err.details, { command: 'slow', timeoutMs: 30 });
  const late = await conn.nextCommand('slow');
  conn.send({ return: 'late', id: late['id'] }); // ignored
  const p = qmp.execute('fast');
  conn.send({ return: 'ok', id: (await conn.nextCommand('fast'))['id'] });
  assert.equal(await p, 'ok');
});

test('the default timeout is configurable per client', async (t) => {
  const path = join(await tempDir(t), 'q.sock');
  await fakeServer(t, path);
  const qmp = await QmpClient.connect(path, { defaultTimeoutMs: 25 });
  t.after(() => qmp.close());
  const err = await rejectsWithCode(qmp.execute('slow'), 'Timeout');
  assert.equal(err.details['timeoutMs'], 25);
  await rejectsWithCode(qmp.execute('x', undefined, { timeoutMs: -1 }), 'InvalidArgument');
  await rejectsWithCode(qmp.execute('x', undefined, { timeoutMs: 2 ** 32 }), 'InvalidArgument');
});

test('an AbortSignal rejects a pending command and an event wait with Aborted; an aborted signal sends nothing', async (t) => {
  const path = join(await tempDir(t), 'q.sock');
  const fake = await fakeServer(t, path);
  const qmp = await QmpClient.connect(path);
  t.after(() => qmp.close());
  const conn = await fake.nextConn();
  const ac = new AbortController();
  const p = qmp.execute('slow', undefined, { signal: ac.signal });
  const w = qmp.waitForEvent('STOP', { signal: ac.signal });
  await conn.nextCommand('slow');
  const reason = new Error('user gave up');
  ac.abort(reason);
  const err = await rejectsWithCode(p, 'Aborted');
  assert.equal(err.cause, reason);
  assert.match(err.message, /'slow'/);
  await rejectsWithCode(w, 'Aborted');
  await rejectsWithCode(qmp.execute('never-sent', undefined, { signal: ac.signal }), 'Aborted');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(conn.received.some((c) => c['execute'] === 'never-sent'), false);
});

test('waitForEvent honours its filter and times out with Timeout', async (t) => {
  const path = join(await tempDir(t), 'q.sock');
  const fake = await fakeServer(t, path);
  const qmp = await QmpClient.connect(path);
  t.after(() => qmp.close());
  const conn = await fake.nextConn();
  const w = qmp.waitForEvent('BLOCK', { filter: (e) => e.data['n'] === 2, timeoutMs: 2000 });
  conn.send(ev('BLOCK', 1));
  conn.send(ev('OTHER', 2));
  conn.send(ev('BLOCK', 2));
  assert.deepEqual((await w).data, { n: 2 });
  const err = await rejectsWithCode(qmp.waitForEvent('NEVER', { timeoutMs: 20 }), 'Timeout');
  assert.match(err.message, /'NEVER'/);
});

test('invalid JSON from QEMU closes the client with an error and rejects the pending command with QmpClosed', async (t) => {
  const path = join(await tempDir(t), 'q.sock');
  const fake = await fakeServer(t, path);
  const qmp = await QmpClient.connect(path);
  t.after(() => qmp.close());
  const conn = await fake.nextConn();
  const closed = once(qmp, 'close');
  const p = qmp.execute('query-status');
  await conn.nextCommand('query-status');
  conn.socket.write('{"return": oops}\r\n');
  const err = await rejectsWithCode(p, 'QmpClosed');
  assert.match(err.message, /'query-status'/);
  assert.ok(err.cause instanceof QmpParseError);
  const [closeErr] = (await closed) as [VmkitError | undefined];
  assert.ok(closeErr instanceof VmkitError);
  assert.equal(closeErr.code, 'QmpClosed');
  assert.match(closeErr.message, /Cannot parse QMP message/);
  assert.equal(qmp.closed, true);
  await rejectsWithCode(qmp.execute('query-status'), 'QmpClosed');
});

test('the connection closing mid-command rejects it with QmpClosed naming the command; close is emitted without error', async (t) => {
  const path = join(await tempDir(t), 'q.sock');
  const fake = await fakeServer(t, path);
  const qmp = await QmpClient.connect(path);
  const conn = await fake.nextConn();
  const closeArgs: unknown[][] = [];
  qmp.on('close', (...args) => closeArgs.push(args));
  const p = qmp.execute('migrate');
  const w = qmp.waitForEvent('SHUTDOWN');
  await conn.nextCommand('migrate');
  conn.socket.end();
  const err = await rejectsWithCode(p, 'QmpClosed');
  assert.match(err.message, /closed while waiting for the reply to QMP command 'migrate'/);
  assert.equal(err.details['command'], 'migrate');
  await rejectsWithCode(w, 'QmpClosed');
  await qmp.close();
  assert.deepEqual(closeArgs, [[]]);
});

test('a reset as QEMU exits with unread input counts as a hang-up: close has no error, the pending call gets QmpClosed', async (t) => {
  const path = join(await tempDir(t), 'q.sock');
  const fake = await fakeServer(t, path);
  const qmp = await QmpClient.connect(path);
  const conn = await fake.nextConn();
  conn.socket.pause(); // leave the next command unread in the kernel buffer, as an exiting QEMU does
  const closed = once(qmp, 'close');
  // 1 MiB: more than Node's read-ahead and the socket buffer, so input is surely left unread.
  const p = rejectsWithCode(qmp.execute('query-status', { pad: 'x'.repeat(1 << 20) }), 'QmpClosed');
  await new Promise((r) => setTimeout(r, 30));
  conn.socket.destroy();
  const err = await p;
  assert.equal((err.cause as NodeJS.ErrnoException | undefined)?.code, 'ECONNRESET');
  assert.deepEqual(await closed, []);
});

test('close() is idempotent, rejects pending calls with QmpClosed and emits close once', async (t) => {
  const path = join(await tempDir(t), 'q.sock');
  await fakeServer(t, path);
  const qmp = await QmpClient.connect(path);
  let closes = 0;
  qmp.on('close', () => closes++);
  const p = rejectsWithCode(qmp.execute('slow'), 'QmpClosed');
  const a = qmp.close();
  const b = qmp.close();
  await Promise.all([a, b, qmp.close()]);
  await p;
  await qmp.close();
  assert.equal(closes, 1);
  assert.equal(qmp.closed, true);
});

test('connect() fails with NotFound for a missing socket and Timeout when no greeting comes', async (t) => {
  const dir = await tempDir(t);
  const missing = await rejectsWithCode(QmpClient.connect(join(dir, 'absent.sock')), 'NotFound');
  assert.match(missing.message, /absent\.sock/);
  const path = join(dir, 'mute.sock');
  await fakeServer(t, path, { greet: false });
  const err = await rejectsWithCode(QmpClient.connect(path, { timeoutMs: 50 }), 'Timeout');
  assert.match(err.message, /greeting/);
});

test('a process that used and closed clients exits at once: no timer or socket keeps it alive', async () => {
  const index = fileURLToPath(new URL('../../src/qmp/index.js', import.meta.url));
  const script = `
    import net from 'node:net';
    import { mkdtempSync } from 'node:fs';
    import { tmpdir } from 'node:os';
    const { QmpClient } = await import(${JSON.stringify(index)});
    const path = mkdtempSync(tmpdir() + '/vmkit-qmp-') + '/q.sock';
    const server = net.createServer((s) => {
      s.write('${JSON.stringify(GREETING)}\\n');
      s.on('data', (d) => { for (const l of String(d).split('\\n').filter(Boolean)) {
        const c = JSON.parse(l); if (c.execute !== 'hang') s.write(JSON.stringify({ return: {}, id: c.id }) + '\\n'); } });
    });
    await new Promise((r) => server.listen(path, r));
    const qmp = await QmpClient.connect(path);
    await qmp.execute('query-status');
    await qmp.execute('hang', undefined, { timeoutMs: 10 }).catch(() => {});
    qmp.waitForEvent('NEVER').catch(() => {});
    qmp.execute('hang').catch(() => {});
    await qmp.close();
    server.close();
    (await import('node:fs')).rmSync(path.slice(0, path.lastIndexOf('/')), { recursive: true });
  `;
  const started = performance.now();
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
  const ms = performance.now() - started;
  assert.ok(ms < 5000, `child took ${ms} ms to exit (the default command timeout is 30 s)`);
});
