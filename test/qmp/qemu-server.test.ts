/**
 * Real QEMU 7.2 as the QMP server (-qmp unix:PATH,server=on,wait=off), vmkit connecting. To know when
 * QEMU's server socket exists without polling, QEMU also connects to a QmpListener: once that monitor
 * answers a command, QEMU's start-up (which creates every monitor) is over.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { QmpClient, QmpListener } from '../../src/qmp/index.js';
import { clientMonitorArgs, rejectsWithCode, startQemu, tempDir, type RunningQemu } from './helpers.js';
import * as check from './qemu-shared.js';

async function qemuServing(t: TestContext): Promise<{ path: string; qemu: RunningQemu }> {
  const dir = await tempDir(t);
  const path = join(dir, 'server.sock');
  const listener = await QmpListener.listen(join(dir, 'ready.sock'));
  t.after(() => listener.close());
  const qemu = startQemu(t, [...clientMonitorArgs(listener.path), '-qmp', `unix:${path},server=on,wait=off`]);
  const ready = await listener.accept({ timeoutMs: 10_000 });
  await ready.execute('query-status');
  await ready.close();
  await listener.close();
  return { path, qemu };
}

async function connected(t: TestContext): Promise<{ qmp: QmpClient; qemu: RunningQemu; path: string }> {
  const { path, qemu } = await qemuServing(t);
  const qmp = await QmpClient.connect(path, { timeoutMs: 5000 });
  t.after(() => qmp.close());
  return { qmp, qemu, path };
}

test('connect() to QEMU-as-server reads the greeting; query-status and query-version agree', async (t) => {
  const { qmp } = await connected(t);
  await check.checkGreetingAndQueries(qmp);
});

test('pipelined commands over a connected client each get their own reply', async (t) => {
  const { qmp } = await connected(t);
  await check.checkPipelining(qmp);
});

test('an unknown command over a connected client rejects with CommandNotFound', async (t) => {
  const { qmp } = await connected(t);
  await check.checkUnknownCommand(qmp);
});

test('cont and stop over a connected client produce RESUME and STOP', async (t) => {
  const { qmp } = await connected(t);
  await check.checkStopResumeEvents(qmp);
});

test('a second client gets no greeting while the first is connected, and connects once the first closes (re-adoption)', async (t) => {
  const { qmp, path } = await connected(t);
  const err = await rejectsWithCode(QmpClient.connect(path, { timeoutMs: 200 }), 'Timeout');
  assert.match(err.message, /greeting/);
  await qmp.close();
  const again = await QmpClient.connect(path, { timeoutMs: 5000 });
  t.after(() => again.close());
  assert.equal((await again.execute<{ running: boolean }>('query-status')).running, false);
});

test('a frozen QEMU-as-server makes a command time out, and the client keeps working after it thaws', async (t) => {
  const { qmp, qemu } = await connected(t);
  await check.checkTimeoutAndAbortAgainstFrozenQemu(qmp, qemu);
});

test('quit over a connected client makes QEMU exit and emits close; connecting afterwards fails clearly', async (t) => {
  const { qmp, qemu, path } = await connected(t);
  await check.checkQuitClosesClient(qmp, qemu);
  const err = await QmpClient.connect(path, { timeoutMs: 2000 }).then(
    () => assert.fail('connect after quit should fail'),
    (e: { code?: string; message: string }) => e,
  );
  assert.ok(err.code === 'NotFound' || err.code === 'HostError', `${err.code}: ${err.message}`);
  assert.ok(err.message.includes(path));
});
