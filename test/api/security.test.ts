/**
 * The daemon socket as an attacker sees it: malformed URLs, what `--socket` may replace, refused peers and
 * the connection limit, the client's check of who serves the socket, and session mode's socket directory.
 * Other users are played by child processes running as `nobody` (the tests run as root).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type Daemon } from '../../src/api/daemon.js';
import { Transport } from '../../src/api/transport.js';
import { connect, VmkitError } from '../../src/index.js';
import { REPO } from '../helpers/guest.js';

const NOBODY = 65534;
const isCode = (code: string, re?: RegExp) => (e: unknown) => e instanceof VmkitError && e.code === code && (re === undefined || re.test(e.message));

/** One raw HTTP/1.1 exchange on the unix socket: what came back, and whether the daemon closed the connection. */
function rawRequest(socket: string, request: string, waitMs = 3000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ path: socket });
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text, closed: false });
    }, waitMs);
    s.on('data', (c: Buffer) => (text += c.toString()));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('connect', () => s.write(request));
  });
}

/** A node script run as `nobody`; resolves with what it printed once it exits. */
function asNobody(script: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    uid: NOBODY,
    gid: NOBODY,
    cwd: '/',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
  return { child, done };
}

function waitForOutput(child: ChildProcess, re: RegExp, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${String(re)} within ${timeoutMs} ms; got: ${seen}`)), timeoutMs);
    const on = (c: Buffer): void => {
      seen += c.toString();
      if (re.test(seen)) {
        clearTimeout(timer);
        child.stdout?.off('data', on);
        resolve(seen);
      }
    };
    child.stdout?.on('data', on);
  });
}

describe('daemon socket security', () => {
  let base: string;
  let daemon: Daemon;
  const log: string[] = [];
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-sec-'));
    await chmod(base, 0o755);
    // Root-only access, but a socket everyone may connect to: a refused peer reaches the daemon.
    daemon = await startDaemon({
      version: 'test',
      socket: join(base, 'd.sock'),
      root: join(base, 'root'),
      socketMode: 0o666,
      access: { uids: [0], gids: [], describe: 'root only (test)' },
      noSync: true,
      autostart: false,
      parseThreads: 1,
      maxConnections: 8,
      log: (l) => log.push(l),
    });
  });
  after(async () => {
    await daemon?.stop();
    await rm(base, { recursive: true, force: true });
  });

  it('malformed %-escapes in the URL path are 400 InvalidArgument, not 500', async () => {
    const t = new Transport(daemon.socket);
    try {
      for (const path of ['/v1/domains/%E0%A4%A', '/v1/domains/%zz/start', '/v1/domains/%']) {
        await assert.rejects(t.request(path.endsWith('start') ? 'POST' : 'GET', path), isCode('InvalidArgument', /Malformed %-escape/), path);
      }
      const r = await rawRequest(daemon.socket, 'GET /v1/domains/%C0/console HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: vmkit-console\r\n\r\n');
      assert.match(r.text, /^HTTP\/1\.1 400 /);
      assert.match(r.text, /Malformed %-escape/);
    } finally {
      t.close();
    }
    assert.ok(!log.some((l) => /internal error/.test(l)), log.join('\n'));
  });

  it('a request target is a path: //host/v1/... is not served as /v1/...', async () => {
    const r = await rawRequest(daemon.socket, 'GET //evil/v1/domains HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 404 /);
  });

  it('a refused peer gets its 403 and its connection is closed at once, even if it sends nothing', async () => {
    const { child, done } = asNobody(`
      import net from 'node:net';
      const s = net.createConnection({ path: ${JSON.stringify(daemon.socket)} });
      const t0 = Date.now(); let text = '';
      s.on('data', (c) => (text += c));
      s.on('close', () => { console.log(JSON.stringify({ ms: Date.now() - t0, text })); process.exit(0); });
      setTimeout(() => { console.log(JSON.stringify({ ms: -1, text })); process.exit(0); }, 5000);`);
    void child;
    const r = await done;
    const { ms, text } = JSON.parse(r.out) as { ms: number; text: string };
    assert.ok(ms >= 0 && ms < 3000, `the connection stayed open (${ms} ms): ${text}`);
    assert.match(text, /^HTTP\/1\.1 403 /);
    assert.match(text, /Permission denied: this vmkit daemon serves root only \(test\)/);
    assert.ok(log.some((l) => /refused a client: uid 65534/.test(l)));
  });

  it('connections past the limit get 503 and are closed; below it the daemon serves again', async () => {
    const held: net.Socket[] = [];
    try {
      // maxConnections is 8: fill it with idle connections.
      for (let i = 0; i < 8; i++) {
        const s = net.createConnection({ path: daemon.socket });
        await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
        held.push(s);
      }
      await new Promise((r) => setTimeout(r, 100));
      const over = await rawRequest(daemon.socket, 'GET /v1/domains HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.ok(over.closed);
      assert.match(over.text, /^HTTP\/1\.1 503 /);
      assert.match(over.text, /has 8 connections open, the most it serves/);
      held.pop()?.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const ok = await rawRequest(daemon.socket, 'GET /v1/domains HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match(ok.text, /^HTTP\/1\.1 200 /);
    } finally {
      for (const s of held) s.destroy();
    }
  });

  it('--socket replaces only a stale socket: a file, a directory or a symbolic link there is refused and left alone', async () => {
    const file = join(base, 'file.sock');
    await writeFile(file, 'precious\n');
    const dir = join(base, 'dir.sock');
    await mkdir(dir);
    const link = join(base, 'link.sock');
    await symlink(file, link);
    for (const [path, kind] of [
      [file, 'a regular file'],
      [dir, 'a directory'],
      [link, 'a symbolic link'],
    ] as const) {
      await assert.rejects(
        startDaemon({ version: 'test', socket: path, root: join(base, `root-${kind.length}`), noSync: true, autostart: false, parseThreads: 1 }),
        isCode('InvalidArgument', new RegExp(`exists and is ${kind}, not a socket: vmkit only replaces a stale socket`)),
      );
    }
    assert.equal(await readFile(file, 'utf8'), 'precious\n');
    assert.ok((await lstat(dir)).isDirectory());
    assert.ok((await lstat(link)).isSymbolicLink());
    // A stale socket (what a killed daemon leaves: the file, nobody listening) is replaced.
    const stale = join(base, 'stale.sock');
    const killed = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    await new Promise((resolve) => killed.on('close', resolve));
    assert.ok((await lstat(stale)).isSocket());
    const d = await startDaemon({ version: 'test', socket: stale, root: join(base, 'root-stale'), noSync: true, autostart: false, parseThreads: 1 });
    await d.stop();
  });

  it('the vmkit daemon command refuses a --socket that is a regular file with exit 2', async () => {
    const file = join(base, 'cli-file.sock');
    await writeFile(file, 'keep\n');
    const child = spawn(process.execPath, [join(REPO, 'bin/vmkit'), 'daemon', '--socket', file, '--root', join(base, 'root-cli')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000); // a daemon that started anyway
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(killer);
    assert.equal(code, 2, err);
    assert.match(err, /is a regular file, not a socket/);
    assert.equal(await readFile(file, 'utf8'), 'keep\n');
  });

  it('a client refuses a socket served by another user before it sends anything', async () => {
    const dir = join(base, 'foreign');
    await mkdir(dir, { mode: 0o777 });
    await chmod(dir, 0o777);
    const sock = join(dir, 'vmkit.sock');
    const { child, done } = asNobody(`
      import net from 'node:net';
      import { chmodSync } from 'node:fs';
      const srv = net.createServer((c) => { c.on('data', (d) => console.log('got ' + d.length)); });
      srv.listen(${JSON.stringify(sock)}, () => { chmodSync(${JSON.stringify(sock)}, 0o666); console.log('ready'); });
      process.on('SIGTERM', () => process.exit(0));`);
    try {
      await waitForOutput(child, /ready/);
      const t = new Transport(sock);
      try {
        await assert.rejects(
          t.request('POST', '/v1/domains', { text: 'name: secret\n' }, { timeoutMs: 5000 }),
          isCode('HostError', /Refusing to talk to .*vmkit\.sock: the process serving it \(pid \d+\) runs as uid 65534, not root/),
        );
        await assert.rejects(t.stream('/v1/events', 5000), isCode('HostError', /runs as uid 65534/));
        await assert.rejects(t.upgrade('/v1/domains/x/console', 'vmkit-console', 5000), isCode('HostError', /runs as uid 65534/));
      } finally {
        t.close();
      }
      await assert.rejects(connect(`unix://${sock}`), isCode('HostError', /runs as uid 65534/));
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      child.kill('SIGTERM');
    }
    const r = await done;
    assert.doesNotMatch(r.out, /got \d+/, 'the client sent bytes to a foreign server');
  });
});

describe('session mode socket directory (daemon run as nobody, no XDG_RUNTIME_DIR)', () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-session-'));
    await chmod(base, 0o1777); // a shared /tmp
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  /** `vmkit daemon --root ROOT --json` as nobody with TMPDIR=base; resolves when ready or exited. */
  async function sessionDaemon(root: string): Promise<{ ready: boolean; code: number | null; err: string; stop(): Promise<void> }> {
    const child = spawn(process.execPath, [join(REPO, 'bin/vmkit'), 'daemon', '--root', root, '--json'], {
      uid: NOBODY,
      gid: NOBODY,
      cwd: '/',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: base, HOME: base },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const ready = await Promise.race([
      closed.then(() => false),
      new Promise<boolean>((resolve) => {
        const check = (): void => {
          if (/^\}$/m.test(out) && /"pid":/.test(out)) resolve(true);
        };
        child.stdout.on('data', check);
      }),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000)),
    ]);
    return {
      ready,
      code: child.exitCode,
      // With --json an error is printed on stdout.
      err: `${out}${err}`,
      async stop() {
        child.kill('SIGTERM');
        await closed;
      },
    };
  }

  async function nobodyRoot(name: string): Promise<string> {
    const root = join(base, name);
    await mkdir(root, { mode: 0o700 });
    await chown(root, NOBODY, NOBODY);
    return root;
  }

  it('refuses a socket directory made by someone else, or with a mode other than 0700, or a symbolic link', async () => {
    const dir = join(base, `vmkit-${NOBODY}`);
    const cases: [string, () => Promise<void>][] = [
      ['mode 0755', async () => {
        await mkdir(dir, { mode: 0o755 });
        await chmod(dir, 0o755);
        await chown(dir, NOBODY, NOBODY);
      }],
      ['owned by root', async () => {
        await mkdir(dir, { mode: 0o700 });
      }],
      ['a symbolic link', async () => {
        const target = join(base, 'elsewhere');
        await mkdir(target, { mode: 0o700 });
        await chown(target, NOBODY, NOBODY);
        await symlink(target, dir);
      }],
    ];
    for (const [what, make] of cases) {
      await rm(dir, { recursive: true, force: true });
      await make();
      const d = await sessionDaemon(await nobodyRoot(`root-${what.replace(/\W/g, '')}`));
      if (d.ready) await d.stop();
      assert.equal(d.ready, false, `the daemon used a socket directory that is ${what}: ${d.err}`);
      assert.match(d.err, new RegExp(`The socket directory ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is .* not a directory of uid ${NOBODY} with mode 0700`), what);
      assert.notEqual(d.code, 0);
    }
  });

  it('creates the socket directory with mode 0700 when it is missing, and serves there', async () => {
    const dir = join(base, `vmkit-${NOBODY}`);
    await rm(dir, { recursive: true, force: true });
    const d = await sessionDaemon(await nobodyRoot('root-fresh'));
    try {
      assert.ok(d.ready, d.err);
      const st = await stat(dir);
      assert.equal(st.mode & 0o7777, 0o700);
      assert.equal(st.uid, NOBODY);
      assert.ok((await lstat(join(dir, 'vmkit.sock'))).isSocket());
    } finally {
      await d.stop();
    }
  });
});
