/**
 * Holding an abstract unix socket name both ways (Node's pipe handle, and net.Server): a name in use is
 * refused, whichever way holds it; it is free again on release or when the holder dies; a held name never
 * keeps a process alive; the cheap way loads neither net nor cluster.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { holdAbstractName, holdMethod, type HoldMethod } from '../../src/driver/abstract-name.js';

const MODULE = new URL('../../src/driver/abstract-name.js', import.meta.url).href;
const freshName = () => `\0vmkit-test-name-${process.pid}-${randomBytes(8).toString('hex')}`;

/** Runs a module script in a fresh node; resolves with its exit code, stdout and how long it took. */
function script(code: string, execArgv: string[] = []): Promise<{ code: number | null; out: string; ms: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...execArgv, '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => child.once('close', (c) => resolve({ code: c, out, ms: performance.now() - t0 })));
}

describe('abstract socket names', () => {
  it('this process holds names with Node\'s pipe handle (no --pending-deprecation here)', () => {
    assert.equal(holdMethod(), 'handle');
  });

  for (const first of ['handle', 'net'] as HoldMethod[]) {
    for (const second of ['handle', 'net'] as HoldMethod[]) {
      it(`a name held by ${first} is refused to ${second}, and free again once released`, async () => {
        const name = freshName();
        const held = await holdAbstractName(name, first);
        assert.ok(held !== false);
        assert.equal(held.method, first);
        assert.equal(await holdAbstractName(name, second), false);
        await held.release();
        await held.release(); // idempotent
        const again = await holdAbstractName(name, second);
        assert.ok(again !== false, 'the released name could not be taken');
        await again.release();
      });
    }
  }

  it('refuses a name without the leading NUL (that would be a file)', async () => {
    await assert.rejects(holdAbstractName('vmkit-test-not-abstract'), /starts with NUL/);
  });

  it('a held name does not keep a process alive, and is free as soon as its holder has exited', async () => {
    const name = freshName();
    for (const method of ['handle', 'net'] as HoldMethod[]) {
      const r = await script(`
        const { holdAbstractName } = await import(${JSON.stringify(MODULE)});
        const h = await holdAbstractName(${JSON.stringify(name)}, ${JSON.stringify(method)});
        console.log(h === false ? 'refused' : 'held ' + h.method);`);
      assert.equal(r.code, 0);
      assert.equal(r.out.trim(), `held ${method}`);
      assert.ok(r.ms < 30_000);
      const after = await holdAbstractName(name);
      assert.ok(after !== false, `the name of an exited ${method} holder is still taken`);
      await after.release();
    }
  });

  it('a child process does not inherit a held name: it is free once the holder exits, though its child lives on', async () => {
    for (const method of ['handle', 'net'] as HoldMethod[]) {
      const name = freshName();
      const r = await script(`
        const { holdAbstractName } = await import(${JSON.stringify(MODULE)});
        const { spawn } = await import('node:child_process');
        const h = await holdAbstractName(${JSON.stringify(name)}, ${JSON.stringify(method)});
        const child = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
        child.unref();
        console.log(JSON.stringify({ held: h !== false, pid: child.pid }));`);
      assert.equal(r.code, 0);
      const { held, pid } = JSON.parse(r.out) as { held: boolean; pid: number };
      assert.ok(held);
      try {
        process.kill(pid, 0); // the holder's child still runs
        const after = await holdAbstractName(name);
        assert.ok(after !== false, `the name held by ${method} went on with the holder's child`);
        await after.release();
      } finally {
        process.kill(pid, 'SIGKILL');
      }
    }
  });

  it('the pipe handle loads neither net nor cluster; under --pending-deprecation net is used, with no warning', async () => {
    const probe = (flags: string[]) =>
      script(
        `const { holdAbstractName } = await import(${JSON.stringify(MODULE)});
        const h = await holdAbstractName(${JSON.stringify(freshName())});
        const loaded = (m) => process.moduleLoadList.includes('NativeModule ' + m);
        console.log(JSON.stringify({ method: h.method, net: loaded('net'), cluster: loaded('cluster') }));
        await h.release();`,
        flags,
      );
    const quiet = await probe([]);
    assert.equal(quiet.code, 0);
    assert.deepEqual(JSON.parse(quiet.out), { method: 'handle', net: false, cluster: false });
    const pending = await probe(['--pending-deprecation', '--throw-deprecation']);
    assert.equal(pending.code, 0, 'a deprecation warning was raised');
    assert.equal((JSON.parse(pending.out) as { method: string }).method, 'net');
  });
});
