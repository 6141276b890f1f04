/** QmpListener behaviour with fake QEMU connections (real QEMU is in qemu-listener.test.ts). */
import assert from 'node:assert/strict';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { QmpListener } from '../../src/qmp/index.js';
import { fakeQemu, rejectsWithCode, tempDir } from './helpers.js';

function dial(t: { after(fn: () => void): void }, path: string): net.Socket {
  const s = net.createConnection(path);
  s.on('error', () => {});
  t.after(() => s.destroy());
  return s;
}

test('listen() creates the socket with mode 0600 by default, or the mode given', async (t) => {
  const dir = await tempDir(t);
  const a = await QmpListener.listen(join(dir, 'a.sock'));
  t.after(() => a.close());
  assert.equal(a.path, join(dir, 'a.sock'));
  const st = statSync(a.path);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o600);
  const b = await QmpListener.listen(join(dir, 'b.sock'), { mode: 0o660 });
  t.after(() => b.close());
  assert.equal(statSync(b.path).mode & 0o777, 0o660);
});

test('listen() refuses an existing path with AlreadyExists and a missing directory with NotFound', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'taken');
  writeFileSync(file, 'keep me');
  const err = await rejectsWithCode(QmpListener.listen(file), 'AlreadyExists');
  assert.match(err.message, /taken/);
  assert.equal(statSync(file).isFile(), true, 'the existing file is untouched');
  await rejectsWithCode(QmpListener.listen(join(dir, 'nope', 'q.sock')), 'NotFound');
});

test('listen() rejects a path over the 107-byte unix socket limit, naming the path', async (t) => {
  const dir = await tempDir(t);
  const long = join(dir, `${'x'.repeat(120 - dir.length)}.sock`);
  const err = await rejectsWithCode(QmpListener.listen(long), 'InvalidArgument');
  assert.ok(err.message.includes(long), err.message);
  assert.match(err.message, /107-byte limit/);
  assert.equal(existsSync(long), false);
  // Exactly 107 bytes is accepted.
  const max = join(dir, 'y'.repeat(107 - dir.length - 1));
  assert.equal(Buffer.byteLength(max), 107);
  const l = await QmpListener.listen(max);
  await l.close();
  await rejectsWithCode(QmpListener.listen('relative.sock'), 'InvalidArgument');
});

test('accept() resolves with a negotiated client for a connection made before or after it is called', async (t) => {
  const dir = await tempDir(t);
  const l = await QmpListener.listen(join(dir, 'q.sock'));
  t.after(() => l.close());
  // Before: QEMU connects first and its greeting waits in the socket buffer.
  const early = dial(t, l.path);
  fakeQemu(early);
  await new Promise((r) => setTimeout(r, 30));
  const c1 = await l.accept({ timeoutMs: 2000 });
  t.after(() => c1.close());
  assert.equal(c1.greeting.version.package, 'fake');
  // After.
  const waiting = l.accept({ timeoutMs: 2000 });
  fakeQemu(dial(t, l.path));
  const c2 = await waiting;
  t.after(() => c2.close());
  assert.equal(c2.closed, false);
});

test('accept() rejects with Timeout naming the path, with Aborted on abort, and with QmpClosed when the listener closes', async (t) => {
  const dir = await tempDir(t);
  const l = await QmpListener.listen(join(dir, 'q.sock'));
  const err = await rejectsWithCode(l.accept({ timeoutMs: 20 }), 'Timeout');
  assert.ok(err.message.includes(l.path), err.message);
  const ac = new AbortController();
  const aborted = rejectsWithCode(l.accept({ signal: ac.signal }), 'Aborted');
  ac.abort();
  await aborted;
  const pending = rejectsWithCode(l.accept(), 'QmpClosed');
  await l.close();
  await pending;
  await rejectsWithCode(l.accept(), 'QmpClosed');
});

test('a connection that never greets makes accept() time out as a whole', async (t) => {
  const dir = await tempDir(t);
  const l = await QmpListener.listen(join(dir, 'q.sock'));
  t.after(() => l.close());
  const mute = dial(t, l.path);
  mute.resume(); // read, so that the listener's hang-up is seen
  const muteClosed = new Promise((r) => mute.once('close', r));
  const started = performance.now();
  const err = await rejectsWithCode(l.accept({ timeoutMs: 80 }), 'Timeout');
  assert.match(err.message, /greeting/);
  assert.ok(performance.now() - started < 1000);
  await muteClosed; // the listener dropped the mute connection
});

test('close() is idempotent, removes the socket file and leaves accepted clients open', async (t) => {
  const dir = await tempDir(t);
  const l = await QmpListener.listen(join(dir, 'q.sock'));
  const waiting = l.accept();
  const fake = fakeQemu(dial(t, l.path));
  const client = await waiting;
  t.after(() => client.close());
  await Promise.all([l.close(), l.close()]);
  await l.close();
  assert.equal(existsSync(l.path), false);
  const p = client.execute('query-status');
  fake.send({ return: { running: false }, id: (await fake.nextCommand('query-status'))['id'] });
  assert.deepEqual(await p, { running: false });
});
