/** Checks run against a real QEMU in both directions (QEMU connects to us / we connect to QEMU). */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { QmpClient } from '../../src/qmp/index.js';
import { alive, qemuVersion, rejectsWithCode, type RunningQemu } from './helpers.js';

export async function checkGreetingAndQueries(qmp: QmpClient): Promise<void> {
  const v = await qemuVersion();
  assert.deepEqual(qmp.greeting.version.qemu, v);
  assert.ok(qmp.greeting.capabilities.includes('oob'));
  const status = await qmp.execute<{ status: string; running: boolean }>('query-status');
  assert.equal(status.running, false);
  assert.equal(status.status, 'prelaunch'); // -S with -machine none: paused before the first cont
  const version = await qmp.execute<{ qemu: { major: number; minor: number; micro: number }; package: string }>('query-version');
  assert.deepEqual(version.qemu, v);
  assert.equal(version.package, qmp.greeting.version.package);
}

export async function checkPipelining(qmp: QmpClient): Promise<void> {
  const [status, version, name, kvm, cmds] = await Promise.all([
    qmp.execute<{ running: boolean }>('query-status'),
    qmp.execute<{ qemu: { major: number } }>('query-version'),
    qmp.execute<Record<string, unknown>>('query-name'),
    qmp.execute<{ present: boolean; enabled: boolean }>('query-kvm'),
    qmp.execute<{ name: string }[]>('query-commands'),
  ]);
  assert.equal(status.running, false);
  assert.equal(typeof version.qemu.major, 'number');
  assert.deepEqual(name, {});
  assert.equal(typeof kvm.present, 'boolean');
  assert.ok(cmds.some((c) => c.name === 'query-status'));
}

export async function checkUnknownCommand(qmp: QmpClient): Promise<void> {
  const err = await rejectsWithCode(qmp.execute('no-such-command'), 'QmpError');
  assert.equal(err.details['class'], 'CommandNotFound');
  assert.match(err.message, /^QMP command 'no-such-command' failed: .*no-such-command.* \(CommandNotFound\)$/);
}

export async function checkStopResumeEvents(qmp: QmpClient): Promise<void> {
  const seen: string[] = [];
  qmp.on('event', (e) => seen.push(e.event));
  const resumed = qmp.waitForEvent('RESUME', { timeoutMs: 5000 });
  await qmp.execute('cont');
  const r = await resumed;
  assert.ok(r.timestamp.seconds > 0);
  assert.equal((await qmp.execute<{ running: boolean }>('query-status')).running, true);
  const stopped = qmp.waitForEvent('STOP', { timeoutMs: 5000 });
  await qmp.execute('stop');
  await stopped;
  assert.deepEqual(seen, ['RESUME', 'STOP']);
}

/** Freezes QEMU with SIGSTOP so a command cannot be answered in time, then thaws it. */
export async function checkTimeoutAndAbortAgainstFrozenQemu(qmp: QmpClient, qemu: RunningQemu): Promise<void> {
  qemu.child.kill('SIGSTOP');
  try {
    const err = await rejectsWithCode(qmp.execute('query-status', undefined, { timeoutMs: 100 }), 'Timeout');
    assert.match(err.message, /100 ms.*'query-status'/);
    const ac = new AbortController();
    const p = rejectsWithCode(qmp.execute('query-version', undefined, { signal: ac.signal }), 'Aborted');
    setTimeout(() => ac.abort(), 20);
    await p;
  } finally {
    qemu.child.kill('SIGCONT');
  }
  // The late replies carry ids nobody waits for: ignored; the connection keeps working.
  const unexpected: unknown[] = [];
  qmp.on('unexpected', (m) => unexpected.push(m));
  assert.equal((await qmp.execute<{ running: boolean }>('query-status')).running, false);
  assert.equal(unexpected.length, 2);
  assert.equal(qmp.closed, false);
}

/** `quit`: SHUTDOWN arrives, QEMU exits 0, the client emits 'close' without error and is closed. */
export async function checkQuitClosesClient(qmp: QmpClient, qemu: RunningQemu): Promise<void> {
  const closed = once(qmp, 'close');
  const shutdown = qmp.waitForEvent('SHUTDOWN', { timeoutMs: 5000 });
  // QEMU normally answers quit before hanging up; if it hangs up first, that is QmpClosed.
  await qmp.execute('quit').catch((e: { code?: string }) => assert.equal(e.code, 'QmpClosed'));
  assert.equal((await shutdown).data['reason'], 'host-qmp-quit');
  const [err] = (await closed) as [Error | undefined];
  assert.equal(err, undefined);
  assert.equal(qmp.closed, true);
  const exit = await qemu.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.equal(alive(qemu.child.pid ?? -1), false);
  await rejectsWithCode(qmp.execute('query-status'), 'QmpClosed');
  await qmp.close(); // still fine after the peer hung up
}
