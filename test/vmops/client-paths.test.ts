import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type Daemon } from '../../src/api/daemon.js';
import { RemoteConnection } from '../../src/index.js';
import { tinyGuest, tinyYaml } from '../helpers/guest.js';
import { killQemusUnder } from '../driver/fixtures.js';
import { daemonBase } from '../api/daemon-process.js';

const NOBODY = 65534;

/** One request to the daemon from a process running as uid/gid 65534 (setpriv): its status and body. */
function asNobody(socket: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: { error?: { code: string; message: string; details?: Record<string, unknown> } } & Record<string, unknown> }> {
  const script = `
    const http = require('node:http');
    const data = ${JSON.stringify(body === undefined ? '' : JSON.stringify(body))};
    const req = http.request({ socketPath: ${JSON.stringify(socket)}, path: ${JSON.stringify(path)}, method: ${JSON.stringify(method)}, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, body: b })));
    });
    req.on('error', (e) => process.stdout.write(JSON.stringify({ status: 0, body: JSON.stringify({ error: { code: e.code, message: e.message } }) })));
    req.end(data);`;
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', () => {
      try {
        const r = JSON.parse(out) as { status: number; body: string };
        resolve({ status: r.status, body: r.body === '' ? {} : JSON.parse(r.body) });
      } catch (e) {
        reject(new Error(`client as uid ${NOBODY} failed: ${out}\n${err}`, { cause: e }));
      }
    });
  });
}

describe('host paths in vmops requests from a client that is not root (a real root daemon; the client runs as uid 65534)', { skip: process.getuid?.() !== 0 ? 'needs root to run the daemon as root and the client as another uid (setpriv)' : false }, () => {
  let base: string;
  let daemon: Daemon;
  let socket: string;
  let root: string;
  before(async () => {
    tinyGuest();
    base = await daemonBase('vmkit-test-client-paths-');
    root = join(base, 'root');
    socket = join(base, 'd.sock');
    // uid 65534 may use this daemon (a real daemon checks SO_PEERCRED; the vmkit group does not exist here).
    daemon = await startDaemon({ socket, root, version: 'test', noSync: true, socketMode: 0o666, autostart: false, access: { uids: [0, NOBODY], gids: [], describe: 'root and uid 65534' } });
    const conn = await RemoteConnection.open(socket);
    try {
      const d = await conn.define({ text: tinyYaml({ name: 'p', action: 'count' }) });
      await d.start({ paused: true });
      await conn.define({ text: tinyYaml({ name: 'off', action: 'count' }) });
    } finally {
      await conn.close();
    }
  });
  after(async () => {
    await daemon?.stop();
    await killQemusUnder(base);
    await rm(base, { recursive: true, force: true });
  });

  it('attach-disk: a path outside the domain\'s directory is refused with 403 naming the field and the rule; one inside it is attached', { timeout: 60_000 }, async () => {
    // Readable by everyone, and still refused: the root daemon must not open host files for the client.
    const outside = join(base, 'outside.img');
    await writeFile(outside, Buffer.alloc(1024 * 1024));
    await chmod(outside, 0o666);
    for (const path of [outside, '/etc/shadow', 'relative.img', join(root, 'vm', 'p', '..', 'off', 'x.img')]) {
      const r = await asNobody(socket, 'POST', '/v1/domains/p/attach-disk', { id: 'x', path, format: 'raw' });
      assert.equal(r.status, 403, JSON.stringify(r.body));
      assert.equal(r.body.error?.code, 'PermissionDenied');
      assert.match(r.body.error?.message ?? '', new RegExp(`^path: a file outside the domain's directory ${join(root, 'vm', 'p')}: needs a client with uid 0 \\(client uid 65534`));
      assert.equal(r.body.error?.details?.field, 'path');
    }
    // A link inside the directory to a file outside is refused too (the link is followed).
    const dir = join(root, 'vm', 'p');
    await mkdir(dir, { recursive: true });
    const { symlink } = await import('node:fs/promises');
    await symlink(outside, join(dir, 'link.img'));
    const viaLink = await asNobody(socket, 'POST', '/v1/domains/p/attach-disk', { id: 'x', path: join(dir, 'link.img'), format: 'raw' });
    assert.equal(viaLink.status, 403);
    const conn = await RemoteConnection.open(socket);
    try {
      assert.deepEqual((await conn.lookup('p').info()).disks, [], 'nothing was attached');
      const inside = join(dir, 'data.img');
      await writeFile(inside, Buffer.alloc(1024 * 1024));
      await chmod(inside, 0o666); // QEMU runs as vmkit-qemu
      const ok = await asNobody(socket, 'POST', '/v1/domains/p/attach-disk', { id: 'mine', path: inside, format: 'raw' });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.ok((await conn.lookup('p').info()).disks.some((x) => x.id === 'mine' && x.path === inside));
      // Root may name any path.
      const { vmops } = await import('../../src/vmops/api.js');
      const asRoot = await (await vmops(conn)).attachDisk('p', { id: 'rootdisk', path: outside, format: 'raw' });
      assert.equal(asRoot.device, 'rootdisk');
    } finally {
      await conn.close();
    }
  });

  it('external snapshot overlays: a file outside the domain\'s directory is refused naming disks[i].file', { timeout: 30_000 }, async () => {
    const r = await asNobody(socket, 'POST', '/v1/domains/p/snapshots', { name: 's', kind: 'external', disks: [{ id: 'disk9', snapshot: 'no' }, { id: 'mine', snapshot: 'external', file: join(base, 'evil.qcow2') }] });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.match(r.body.error?.message ?? '', /^disks\[1\]\.file: a file outside the domain's directory .*: needs a client with uid 0/);
    const etc = await asNobody(socket, 'POST', '/v1/domains/p/snapshots', { name: 's', kind: 'external', disks: [{ id: 'mine', snapshot: 'external', file: '/etc/cron.d/x' }] });
    assert.equal(etc.status, 403);
    // Inside the domain's directory (which root made) the request goes on, and fails for its own reason: 'off' is not running.
    await mkdir(join(root, 'vm', 'off'), { recursive: true });
    const inside = await asNobody(socket, 'POST', '/v1/domains/off/snapshots', { name: 's', kind: 'external', disks: [{ id: 'disk0', snapshot: 'external', file: join(root, 'vm', 'off', 'o.qcow2') }] });
    assert.equal(inside.body.error?.code, 'InvalidState', JSON.stringify(inside.body));
  });

  it('migration: a unix socket the client could not connect to itself is refused; one it could is let through', { timeout: 30_000 }, async () => {
    const privDir = join(base, 'private');
    await mkdir(privDir, { mode: 0o700 });
    const priv = join(privDir, 'other.sock');
    const server = createServer();
    await new Promise<void>((r) => server.listen(priv, r));
    try {
      await chmod(priv, 0o666);
      const r = await asNobody(socket, 'POST', '/v1/domains/off/migrate', { to: `unix://${priv}` });
      assert.equal(r.status, 403, JSON.stringify(r.body));
      assert.match(r.body.error?.message ?? '', /^to: a socket this client could not connect to itself: needs a client with uid 0/);
      const closed = join(base, 'closed.sock');
      const s2 = createServer();
      await new Promise<void>((res) => s2.listen(closed, res));
      await chmod(closed, 0o600);
      const r2 = await asNobody(socket, 'POST', '/v1/domains/off/migrate', { to: `unix://${closed}` });
      s2.close();
      assert.equal(r2.status, 403);
      // The daemon's own socket (0666 here) is one uid 65534 reaches: the request goes on to the state check.
      const ok = await asNobody(socket, 'POST', '/v1/domains/off/migrate', { to: `unix://${socket}` });
      assert.equal(ok.body.error?.code, 'InvalidState', JSON.stringify(ok.body));
    } finally {
      server.close();
    }
  });
});
