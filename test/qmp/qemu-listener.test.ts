/** Real QEMU 7.2 connecting to a vmkit QmpListener (-chardev socket,server=off -mon mode=control). */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { QmpListener, type QmpClient } from '../../src/qmp/index.js';
import { clientMonitorArgs, startQemu, tempDir, type RunningQemu } from './helpers.js';
import * as check from './qemu-shared.js';

async function qemuConnectingToUs(t: TestContext): Promise<{ qmp: QmpClient; qemu: RunningQemu; listener: QmpListener }> {
  const listener = await QmpListener.listen(join(await tempDir(t), 'qmp.sock'));
  t.after(() => listener.close());
  const qemu = startQemu(t, clientMonitorArgs(listener.path));
  const exited = new AbortController();
  void qemu.exited.then(() => exited.abort(new Error(`QEMU exited before connecting: ${qemu.stderr()}`)));
  const qmp = await listener.accept({ timeoutMs: 10_000, signal: exited.signal });
  t.after(() => qmp.close());
  return { qmp, qemu, listener };
}

test('QEMU started with -S connects to the listener during startup; greeting, query-status and query-version agree', async (t) => {
  const started = performance.now();
  const { qmp, listener } = await qemuConnectingToUs(t);
  t.diagnostic(`QEMU connected and negotiated in ${Math.round(performance.now() - started)} ms`);
  await check.checkGreetingAndQueries(qmp);
  await listener.close();
  assert.equal(existsSync(listener.path), false, 'no socket file is left');
  assert.equal((await qmp.execute<{ running: boolean }>('query-status')).running, false, 'the client outlives the listener');
});

test('pipelined commands to QEMU each get their own reply', async (t) => {
  const { qmp } = await qemuConnectingToUs(t);
  await check.checkPipelining(qmp);
});

test('an unknown command rejects with QmpError of class CommandNotFound', async (t) => {
  const { qmp } = await qemuConnectingToUs(t);
  await check.checkUnknownCommand(qmp);
});

test('cont and stop produce RESUME and STOP events in order', async (t) => {
  const { qmp } = await qemuConnectingToUs(t);
  await check.checkStopResumeEvents(qmp);
});

test('a frozen QEMU makes a command time out or abort, and the client keeps working after it thaws', async (t) => {
  const { qmp, qemu } = await qemuConnectingToUs(t);
  await check.checkTimeoutAndAbortAgainstFrozenQemu(qmp, qemu);
});

test('quit makes QEMU exit and closes the client with a close event', async (t) => {
  const { qmp, qemu, listener } = await qemuConnectingToUs(t);
  await check.checkQuitClosesClient(qmp, qemu);
  await listener.close();
  await listener.close();
  assert.equal(existsSync(listener.path), false);
});
