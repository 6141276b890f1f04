import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Transport } from '../../src/api/transport.js';
import { ConfigError, connect, RemoteConnection, VmkitError, type LifecycleEvent } from '../../src/index.js';
import { isDead, waitUntil } from '../helpers/cli.js';
import { ACCEL_NOTE, tinyGuest, tinyYaml } from '../helpers/guest.js';
import { killQemusUnder, pausedYaml, qemusUnder } from '../driver/fixtures.js';
import { daemonBase, spawnDaemon, type DaemonProc } from './daemon-process.js';

const isCode = (code: string, re?: RegExp) => (e: unknown) => e instanceof VmkitError && e.code === code && (re === undefined || re.test(e.message));

describe('vmkit daemon over its unix socket (real QEMU, paused guests)', () => {
  let base: string;
  let root: string;
  let socket: string;
  let daemon: DaemonProc;
  before(async () => {
    base = await daemonBase('vmkit-test-api-');
    root = join(base, 'root');
    socket = join(base, 'd.sock');
    daemon = await spawnDaemon(socket, root);
  });
  after(async () => {
    await daemon.kill9();
    await killQemusUnder(root);
    await rm(base, { recursive: true, force: true });
  });

  it('serves its OpenAPI description and answers bad requests with typed errors carrying the library codes', { timeout: 30_000 }, async () => {
    const t = new Transport(socket);
    try {
      const doc = await t.request<{ openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }>('GET', '/openapi.json');
      assert.equal(doc.openapi, '3.1.0');
      for (const p of ['/v1/domains', '/v1/domains/{id}/start', '/v1/events', '/v1/domains/{id}/console', '/metrics', '/v1/stats', '/v1/domains/{id}/stats']) assert.ok(p in doc.paths, p);
      assert.ok('DefineBody' in doc.components.schemas && 'DomainInfo' in doc.components.schemas);
      await assert.rejects(t.request('POST', '/v1/domains', {}), isCode('InvalidArgument', /body: must have required property 'text'/));
      await assert.rejects(t.request('POST', '/v1/domains', { text: 'x', colour: 'red' }), isCode('InvalidArgument', /unknown property 'colour'/));
      await assert.rejects(t.request('GET', '/v1/domains/nope'), isCode('NotFound', /nope/));
      await assert.rejects(t.request('GET', '/v1/nothing'), isCode('NotFound', /openapi\.json/));
      await assert.rejects(t.request('POST', '/v1/domains', { text: 'name: bad\nmemory: lots\n' }), (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.path === 'memory'));
      await t.request('POST', '/v1/domains', { text: pausedYaml('typed') });
      await assert.rejects(t.request('POST', '/v1/domains/typed/start', { paused: 'yes' }), isCode('InvalidArgument', /body\.paused: must be boolean/));
      await assert.rejects(t.request('POST', '/v1/domains/typed/suspend', {}), isCode('InvalidState', /it is shutoff, and suspend needs running/));
      await t.request('DELETE', '/v1/domains/typed');
    } finally {
      t.close();
    }
  });

  it('the client Connection has the embedded interface: define, lookup, start, suspend, resume, destroy, undefine, with events', { timeout: 60_000 }, async () => {
    const conn = await connect(`unix://${socket}`);
    try {
      assert.ok(conn instanceof RemoteConnection);
      const events: string[] = [];
      conn.on('event', (e: LifecycleEvent) => events.push(`${e.type}:${e.domain}`));
      const d = await conn.define({ text: pausedYaml('remote1') }, { policies: { onCrash: 'destroy' } });
      assert.equal(conn.lookup('remote1'), d);
      assert.equal(conn.lookup(d.uuid), d);
      assert.equal(d.state(), 'shutoff');
      const domEvents: string[] = [];
      d.on('started', () => domEvents.push('started'));
      d.on('stopped', (s) => domEvents.push(`stopped:${s.reason}`));
      await d.start({ paused: true });
      assert.equal(d.state(), 'paused');
      assert.ok(d.pid !== undefined && !(await isDead(d.pid)));
      await d.resume();
      assert.equal(d.state(), 'running');
      await d.suspend();
      assert.equal(d.state(), 'paused');
      const info = await d.info();
      assert.equal(info.pid, d.pid);
      // A root daemon runs QEMU as vmkit-qemu (never as root); otherwise as the daemon's own user.
      const expectedUid = process.geteuid?.() === 0 ? Number((await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith('vmkit-qemu:'))?.split(':')[2]) : process.geteuid?.();
      const status = await readFile(`/proc/${d.pid}/status`, 'utf8');
      assert.deepEqual(/^Uid:\s+(\d+)\s+(\d+)/m.exec(status)?.slice(1).map(Number), [expectedUid, expectedUid], 'QEMU runs as vmkit-qemu (real and effective uid)');
      assert.match(info.console?.socket ?? '', /\/run\/remote1\.[^/]+\/q\/console\.sock$/);
      const stop = await d.destroy();
      assert.equal(stop.reason, 'destroyed');
      assert.equal(d.state(), 'shutoff');
      assert.equal(d.pid, undefined);
      await conn.undefine('remote1');
      assert.throws(() => conn.lookup('remote1'), isCode('NotFound'));
      await waitUntil(async () => events.includes('undefined:remote1'), 5000);
      assert.deepEqual(events, ['defined:remote1', 'started:remote1', 'resumed:remote1', 'suspended:remote1', 'stopped:remote1', 'undefined:remote1']);
      assert.deepEqual(domEvents, ['started', 'stopped:destroyed']);
    } finally {
      await conn.close();
    }
  });

  it('defineMany sends definitions in batches: each succeeds or fails on its own, in order, with the library errors', { timeout: 30_000 }, async () => {
    const conn = await RemoteConnection.open(socket);
    const t = new Transport(socket);
    try {
      const out = await conn.defineMany([
        { input: { text: pausedYaml('batch1') }, opts: { autostart: true } },
        { input: { text: 'name: batchbad\nmemory: lots\n' } },
        { input: { path: join(base, 'no-such-file.yaml') } },
        { input: { text: pausedYaml('batch2') } },
      ]);
      assert.deepEqual(out.map((o) => o.ok), [true, false, false, true]);
      const [ok1, bad, missing] = out;
      assert.ok(ok1?.ok === true && ok1.domain === conn.lookup('batch1') && ok1.domain.info !== undefined);
      assert.ok(bad?.ok === false && bad.error instanceof ConfigError && bad.error.problems.some((p) => p.path === 'memory'));
      assert.ok(missing?.ok === false && missing.error.code === 'NotFound');
      assert.equal((await conn.lookup('batch1').info()).autostart, true);
      assert.throws(() => conn.lookup('batchbad'), isCode('NotFound'));
      // The endpoint itself: a bad item of the body is named by its index; nothing is defined then.
      await assert.rejects(t.request('POST', '/v1/batch/define', { definitions: [{ text: pausedYaml('batch3') }, { txt: 'x' }] }), isCode('InvalidArgument', /body\.definitions\.1: unknown property 'txt'/));
      await assert.rejects(t.request('POST', '/v1/batch/define', { definitions: [] }), isCode('InvalidArgument', /definitions/));
      assert.throws(() => conn.lookup('batch3'), isCode('NotFound'));
      await conn.undefine('batch1');
      await conn.undefine('batch2');
    } finally {
      t.close();
      await conn.close();
    }
  });

  it("two clients see each other's changes through the event stream", { timeout: 30_000 }, async () => {
    const a = await RemoteConnection.open(socket);
    const b = await RemoteConnection.open(socket);
    try {
      const seen = new Promise<LifecycleEvent>((r) => b.on('event', (e) => e.domain === 'shared' && e.type === 'defined' && r(e)));
      await a.define({ text: pausedYaml('shared') });
      await seen;
      assert.equal(b.lookup('shared').uuid, a.lookup('shared').uuid);
      await a.undefine('shared');
      assert.ok(await waitUntil(async () => b.list().every((d) => d.name !== 'shared'), 5000));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a client whose peer credentials are not allowed is refused (socket mode and SO_PEERCRED)', { timeout: 30_000 }, async () => {
    // Through the file mode: 0660 root-owned socket, uid 65534 cannot even connect.
    const asNobody = (path: string): Promise<string> =>
      new Promise((resolve) => {
        const script = `
          const http = require('node:http');
          const req = http.request({ socketPath: ${JSON.stringify(path)}, path: '/v1/domains' }, (res) => {
            let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => { console.log(res.statusCode, b); });
          });
          req.on('error', (e) => console.log('error', e.code));
          req.end();`;
        const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.on('close', () => resolve(out.trim()));
      });
    await chmod(base, 0o755);
    assert.match(await asNobody(socket), /^error EACCES/);
    // Through the credentials check: a world-writable socket still refuses uid 65534.
    const open = await spawnDaemon(join(base, 'open.sock'), join(base, 'root-open'), ['--socket-mode', '0666']);
    try {
      const answer = await asNobody(join(base, 'open.sock'));
      assert.match(answer, /^403 /);
      assert.match(answer, /"code":"HostError"/);
      assert.match(answer, /Permission denied/);
      assert.match(open.stderr(), /refused a client: uid 65534/);
      const mine = await RemoteConnection.open(join(base, 'open.sock'));
      await mine.close();
    } finally {
      await open.stop();
    }
  });

  it('a daemon killed with SIGKILL leaves QEMU running; the restarted daemon re-adopts it and marks the one killed meanwhile "crashed while unmonitored"', { timeout: 90_000 }, async () => {
    const conn = await RemoteConnection.open(socket);
    try {
      const keep = await conn.define({ text: pausedYaml('survivor', '32M') });
      const lose = await conn.define({ text: pausedYaml('victim', '32M') });
      await Promise.all([keep.start({ paused: true }), lose.start({ paused: true })]);
      const keepPid = keep.pid ?? -1;
      const losePid = lose.pid ?? -1;
      await daemon.kill9();
      assert.equal(await isDead(keepPid), false, 'QEMU outlives the daemon');
      process.kill(losePid, 'SIGKILL');
      assert.ok(await waitUntil(() => isDead(losePid), 5000));
      daemon = await spawnDaemon(socket, root);
      assert.deepEqual(daemon.ready.adopted, ['survivor']);
      assert.deepEqual(daemon.ready.diedUnmonitored, ['victim']);
      // The same client reconnects its event stream by itself and catches up.
      assert.ok(await waitUntil(async () => lose.state() === 'shutoff', 15_000), 'the client sees the victim shut off');
      const lost = await lose.info();
      assert.equal(lost.lastStop?.unmonitored, true);
      assert.match(lost.lastStop?.message ?? '', /crashed while unmonitored/);
      const kept = await keep.info();
      assert.equal(kept.state, 'paused');
      assert.equal(kept.pid, keepPid);
      await keep.resume();
      assert.equal(keep.state(), 'running');
      await keep.destroy();
      assert.ok(await waitUntil(() => isDead(keepPid), 5000));
      assert.deepEqual(await qemusUnder(root), []);
      await conn.undefine('survivor');
      await conn.undefine('victim');
    } finally {
      await conn.close();
    }
  });

  it('SIGTERM stops the daemon and leaves VMs running; domains marked autostart start with the next daemon', { timeout: 60_000 }, async () => {
    let conn = await RemoteConnection.open(socket);
    await conn.define({ text: pausedYaml('auto', '32M') }, { autostart: true });
    const running = await conn.define({ text: pausedYaml('steady', '32M') });
    await running.start({ paused: true });
    const pid = running.pid ?? -1;
    await conn.close();
    assert.equal(await daemon.stop(), 0);
    assert.equal(await isDead(pid), false);
    assert.deepEqual(await readdir(base).then((e) => e.filter((x) => x === 'd.sock')), [], 'the socket file is removed');
    daemon = await spawnDaemon(socket, root);
    conn = await RemoteConnection.open(socket);
    try {
      assert.ok(await waitUntil(async () => conn.lookup('auto').state() === 'running', 20_000), 'autostarted');
      assert.equal(conn.lookup('steady').pid, pid);
      await conn.lookup('auto').destroy();
      await conn.lookup('steady').destroy();
      await conn.undefine('auto');
      await conn.undefine('steady');
    } finally {
      await conn.close();
    }
  });

  it(`the console streams over the daemon and vmkit console ends when the domain stops (${ACCEL_NOTE})`, { timeout: 90_000 }, async () => {
    tinyGuest();
    const conn = await RemoteConnection.open(socket);
    try {
      const d = await conn.define({ text: tinyYaml({ name: 'talker', action: 'wait' }) });
      let text = '';
      d.on('console', (c) => (text += c.toString()));
      await d.start({ paused: true });
      await d.openConsole(); // attached before the guest runs: nothing is missed
      await d.resume();
      assert.ok(await waitUntil(async () => text.includes('VMKIT-GUEST-READY'), 60_000), `guest ready; console so far:\n${text}`);
      assert.match(text, /VMKIT-GUEST-BANNER/);
      const cli = (await import('../helpers/cli.js')).runCli(['console', 'talker', '--connect', `unix://${socket}`]);
      await cli.waitFor("Connected to domain 'talker'");
      await new Promise((r) => setTimeout(r, 300));
      const stop = await d.shutdown({ timeoutMs: 30_000 });
      assert.equal(stop.reason, 'shutdown');
      const res = await cli.done;
      assert.equal(res.code, 0);
      assert.match(res.stdout, /VMKIT-GUEST-POWERBUTTON/);
      await conn.undefine('talker');
    } finally {
      await conn.close();
    }
  });

  it('a domain whose serial port goes to a file has no daemon console: the upgrade is refused with the file name', { timeout: 60_000 }, async () => {
    tinyGuest();
    const conn = await RemoteConnection.open(socket);
    const log = join(tmpdir(), `vmkit-daemon-serial-${process.pid}.log`);
    try {
      const d = await conn.define({ text: tinyYaml({ name: 'filecons', action: 'wait', extra: `serial: {type: file, path: ${JSON.stringify(log)}}` }) });
      await d.start({ paused: true });
      await assert.rejects(d.openConsole(), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidState' && e.message.includes(`goes to the file ${log}`));
      await d.destroy();
      await conn.undefine('filecons');
    } finally {
      await conn.close();
      await rm(log, { force: true });
    }
  });
});

describe('CLI verbs against the daemon (--json)', () => {
  let base: string;
  let daemon: DaemonProc;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    base = await daemonBase('vmkit-test-cli-');
    daemon = await spawnDaemon(join(base, 'd.sock'), join(base, 'root'));
    env = { VMKIT_URI: `unix://${join(base, 'd.sock')}` };
  });
  after(async () => {
    await daemon.kill9();
    await killQemusUnder(join(base, 'root'));
    await rm(base, { recursive: true, force: true });
  });

  const vmkit = async (...args: string[]): Promise<{ code: number | null; json: unknown; stdout: string; stderr: string }> => {
    const { runCli } = await import('../helpers/cli.js');
    const r = await runCli(args, { env }).done;
    let json: unknown;
    try {
      json = JSON.parse(r.stdout);
    } catch {
      json = undefined;
    }
    return { code: r.code, json, stdout: r.stdout, stderr: r.stderr };
  };

  it('vmkit define with several files defines each on its own: exit 2 when one is refused, a JSON entry per file', { timeout: 60_000 }, async () => {
    const files = ['many1', 'many2', 'manybad'].map((n) => join(base, `${n}.yaml`));
    await writeFile(files[0] as string, pausedYaml('many1'));
    await writeFile(files[1] as string, pausedYaml('many2'));
    await writeFile(files[2] as string, 'name: manybad\nmemory: lots\n');
    const r = await vmkit('define', ...files, '--json');
    assert.equal(r.code, 2, r.stderr);
    const out = r.json as { file: string; domain?: { name: string }; error?: { code: string } }[];
    assert.deepEqual(out.map((o) => [o.file, o.domain?.name ?? o.error?.code]), [[files[0], 'many1'], [files[1], 'many2'], [files[2], 'InvalidConfig']]);
    const human = await vmkit('define', files[0] as string, files[2] as string);
    assert.equal(human.code, 2);
    assert.match(human.stdout, /Domain 'many1' defined/);
    assert.match(human.stderr, /manybad\.yaml:2:\d+.*memory/);
    assert.match(human.stderr, /1 of 2 definitions refused/);
    for (const n of ['many1', 'many2']) assert.equal((await vmkit('undefine', n, '--json')).code, 0);
  });

  it('define, list, show, start, suspend, resume, dump, destroy, undefine, with exit codes 0/1/2', { timeout: 90_000 }, async () => {
    const file = join(base, 'cli1.yaml');
    await writeFile(file, pausedYaml('cli1'));
    const def = await vmkit('define', file, '--json', '--on-crash', 'restart');
    assert.equal(def.code, 0, def.stderr);
    assert.equal((def.json as { name: string }).name, 'cli1');
    assert.equal((def.json as { policies: { onCrash: string } }).policies.onCrash, 'restart');
    const events = (await import('../helpers/cli.js')).runCli(['events', '--json', '--count', '3', '--domain', 'cli1'], { env });
    const list = await vmkit('list', '--all', '--json');
    assert.deepEqual((list.json as { name: string; state: string }[]).map((d) => `${d.name}:${d.state}`), ['cli1:shutoff']);
    assert.deepEqual(await vmkit('list', '--json').then((r) => r.json), [], 'without --all only active domains');
    const started = await vmkit('start', 'cli1', '--paused', '--json');
    assert.equal(started.code, 0, started.stderr);
    assert.equal((started.json as { state: string }).state, 'paused');
    const again = await vmkit('start', 'cli1', '--json');
    assert.equal(again.code, 1);
    assert.equal((again.json as { error: { code: string } }).error.code, 'InvalidState');
    assert.equal((await vmkit('resume', 'cli1', '--json')).code, 0);
    assert.equal(((await vmkit('suspend', 'cli1', '--json')).json as { state: string }).state, 'paused');
    const show = await vmkit('show', 'cli1', '--json');
    assert.equal((show.json as { pid: number }).pid > 0, true);
    const human = await vmkit('show', 'cli1');
    assert.match(human.stdout, /^State: +paused \(user\)$/m);
    const table = await vmkit('list');
    assert.match(table.stdout, /^cli1 +paused +\d+ +1 +64 MiB +no$/m);
    const dump = await vmkit('dump', 'cli1');
    assert.equal(dump.stdout.trimEnd(), pausedYaml('cli1').trimEnd());
    const destroyed = await vmkit('destroy', 'cli1', '--json');
    assert.equal((destroyed.json as { stop: { reason: string } }).stop.reason, 'destroyed');
    const ev = await events.done;
    assert.deepEqual(ev.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type), ['started', 'resumed', 'suspended']);
    const missing = await vmkit('show', 'nope', '--json');
    assert.equal(missing.code, 2);
    assert.equal((missing.json as { error: { code: string } }).error.code, 'NotFound');
    const undef = await vmkit('undefine', 'cli1', '--json');
    assert.equal(undef.code, 0);
    assert.deepEqual(await vmkit('list', '--all', '--json').then((r) => r.json), []);
  });

  it('without a daemon the verbs say how to start one', { timeout: 30_000 }, async () => {
    const { runCli } = await import('../helpers/cli.js');
    const r = await runCli(['list'], { env: { VMKIT_URI: `unix://${join(base, 'none.sock')}` } }).done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot reach the vmkit daemon at .*none\.sock: no daemon runs there \(start one with `vmkit daemon`\)/);
  });
});
