/**
 * The privilege model over the daemon socket: a client that is not root (here `nobody`, let in by the
 * daemon's access rule as a `vmkit` group member would be) may not define options that run host programs
 * or name host files; root may, and so may anyone when the daemon was started with `--allow-raw`.
 * The caller's uid comes from the connection's SO_PEERCRED, not from anything the client says.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type Daemon } from '../../src/api/daemon.js';
import { connect } from '../../src/index.js';
import { REPO } from '../helpers/guest.js';

const NOBODY = 65534;

const HEAD = 'machine:\n  type: q35\ncpu:\n  vcpus: 1\nmemory: 64M\n';
const PLAIN = `name: plain\n${HEAD}`;
const WITH_ENV = `name: withenv\n${HEAD}env:\n  LD_PRELOAD: /tmp/evil.so\n`;
const WITH_ARGS = `name: withargs\n${HEAD}qemu_args: ["-device", "pci-testdev"]\n`;

/** Defines `text` over `sock` as `nobody`; resolves with the error code and message, or 'ok'. */
async function defineAsNobody(sock: string, text: string, file: string): Promise<{ code: string; message: string }> {
  const script = `
    const { connect } = await import(${JSON.stringify(join(REPO, 'dist/src/index.js'))});
    const conn = await connect(${JSON.stringify(`unix://${sock}`)});
    try {
      const d = await conn.define({ text: ${JSON.stringify(text)}, file: ${JSON.stringify(file)} });
      console.log(JSON.stringify({ code: 'ok', message: d.name }));
    } catch (e) {
      console.log(JSON.stringify({ code: e.code ?? 'thrown', message: String(e.message) }));
    } finally { await conn.close(); }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { uid: NOBODY, gid: NOBODY, cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 0, `the client as nobody exited ${String(code)}: ${err}`);
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as { code: string; message: string };
}

async function daemonFor(base: string, name: string, allowRaw: boolean): Promise<Daemon> {
  return startDaemon({
    version: 'test',
    socket: join(base, `${name}.sock`),
    root: join(base, name),
    socketMode: 0o666,
    // nobody stands for a member of group vmkit: let in, but not root.
    access: { uids: [0, NOBODY], gids: [], describe: 'root and nobody (test)' },
    noSync: true,
    autostart: false,
    parseThreads: 1,
    allowRaw,
  });
}

describe('privileged options over the daemon socket', () => {
  let base: string;
  let strict: Daemon;
  let raw: Daemon;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-priv-'));
    await chmod(base, 0o755);
    strict = await daemonFor(base, 'strict', false);
    raw = await daemonFor(base, 'raw', true);
  });
  after(async () => {
    await strict?.stop();
    await raw?.stop();
    await rm(base, { recursive: true, force: true });
  });

  it('a client that is not root defines a plain domain, and is refused env and qemu_args with 403 naming the field and the rule', async () => {
    assert.deepEqual(await defineAsNobody(strict.socket, PLAIN, 'plain.yaml'), { code: 'ok', message: 'plain' });
    const env = await defineAsNobody(strict.socket, WITH_ENV, 'withenv.yaml');
    assert.equal(env.code, 'PermissionDenied', env.message);
    assert.match(env.message, /withenv\.yaml:8:\d+/);
    assert.match(env.message, /env/);
    assert.match(env.message, /--allow-raw/);
    const args = await defineAsNobody(strict.socket, WITH_ARGS, 'withargs.yaml');
    assert.equal(args.code, 'PermissionDenied', args.message);
    assert.match(args.message, /qemu_args/);
    // Nothing was stored for the refused ones.
    assert.deepEqual(strict.conn.list().map((d) => d.name).sort(), ['plain']);
    assert.deepEqual((await readdir(join(strict.root, 'domains'))).filter((f) => f.startsWith('with')), []);
  });

  it('root, over the same socket, may define them', async () => {
    const conn = await connect(`unix://${strict.socket}`);
    try {
      const d = await conn.define({ text: WITH_ENV, file: 'withenv.yaml' });
      assert.equal(d.name, 'withenv');
      await conn.undefine('withenv');
    } finally {
      await conn.close();
    }
  });

  it('a daemon started with --allow-raw lets a client that is not root define them', async () => {
    assert.deepEqual(await defineAsNobody(raw.socket, WITH_ENV, 'withenv.yaml'), { code: 'ok', message: 'withenv' });
    assert.deepEqual(await defineAsNobody(raw.socket, WITH_ARGS, 'withargs.yaml'), { code: 'ok', message: 'withargs' });
  });
});
