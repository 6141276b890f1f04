/**
 * A root daemon (in this process, so that it may let uid 65534 in) and a client that is not root (the vmkit
 * CLI under setpriv): the client cannot make the daemon read or write a host path of its choosing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type Daemon } from '../../src/api/daemon.js';
import { domainDir } from '../../src/driver/privileged-options.js';
import { REPO } from '../helpers/guest.js';
import { daemonBase } from '../api/daemon-process.js';
import { makeRepo, tinyIndex, type TestRepo } from './repo-fixture.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** Runs the vmkit CLI as uid/gid 65534 against `socket`. */
function asNobody(args: string[], socket: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', process.execPath, join(REPO, 'bin/vmkit'), ...args, '-c', `unix://${socket}`], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', LANG: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a client that is not root cannot make the root daemon read or write host paths', { skip: isRoot ? false : 'needs root: the daemon runs as root and the client switches to uid 65534' }, () => {
  let repo: TestRepo;
  let base: string;
  let daemon: Daemon;
  let secret: string;
  before(async () => {
    repo = await makeRepo('vmkit-test-nonroot-');
    await repo.publish(await tinyIndex(repo));
    process.env.VMKIT_REPOS_DIRS = repo.reposDir;
    process.env.VMKIT_IMAGE_CACHE = repo.cacheDir;
    base = await daemonBase('vmkit-test-nonroot-base-');
    await chmod(base, 0o755); // uid 65534 writes nothing here, but reaches the socket
    // A root-only file the client must not get at through the daemon.
    secret = join(base, 'secret.key');
    await writeFile(secret, 'ssh-ed25519 AAAAROOTONLY root@host\n', { mode: 0o600 });
    daemon = await startDaemon({ socket: join(base, 'd.sock'), root: join(base, 'root'), socketMode: 0o666, access: { uids: [0, NOBODY], gids: [], describe: 'root and uid 65534 (test)' }, autostart: false, noSync: true, version: 'test' });
    await daemon.conn.images.get('tiny', { arch: 'x86_64' });
  });
  after(async () => {
    await daemon?.stop();
    await repo?.close();
    await rm(base, { recursive: true, force: true });
  });

  it('image build -o FILE is refused with PermissionDenied naming output.path and the rule; nothing is written', async () => {
    const out = join(base, 'stolen.img');
    const r = await asNobody(['image', 'build', 'tiny', '--arch', 'x86_64', '-o', out], daemon.socket, base);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /output\.path: An output given by path would have the daemon write the host file .*stolen\.img.*: needs a client with uid 0 \(uid 65534 builds into a volume/);
    await assert.rejects(stat(out), { code: 'ENOENT' });
    // Into a volume (by name) it may build.
    const ok = await asNobody(['image', 'build', 'tiny', '--arch', 'x86_64', '--volume', 'nb1', '--hostname', 'nb1'], daemon.socket, base);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok((await readdir(join(daemon.root, 'volumes'))).includes('nb1.raw'));
  });

  it('--upload SRC:DST and --ssh-inject USER:KEYFILE are read by the client (as uid 65534), never by the daemon', async () => {
    for (const flag of [['--upload', `${secret}:/root/key`], ['--ssh-inject', `root:${secret}`]]) {
      const r = await asNobody(['image', 'build', 'tiny', '--arch', 'x86_64', '--volume', 'nb2', ...flag], daemon.socket, base);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${flag[0] as string}: cannot read .*secret\\.key: EACCES`));
      assert.ok(!(await readdir(join(daemon.root, 'volumes'))).some((f) => f.startsWith('nb2')), 'nothing built');
    }
  });

  it('vol overlay --backing PATH is refused naming backing.path; a template or volume by name is allowed', async () => {
    const r = await asNobody(['vol', 'overlay', 'ov1', '--backing', secret, '--backing-format', 'raw'], daemon.socket, base);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /backing\.path: A backing file given by path would have the daemon read the host file .*secret\.key.*: needs a client with uid 0/);
    assert.ok(!(await readdir(join(daemon.root, 'volumes'))).some((f) => f.startsWith('ov1')));
    const ok = await asNobody(['vol', 'overlay', 'ov1', '--backing', 'tiny'], daemon.socket, base);
    assert.equal(ok.code, 0, ok.stderr);
    const onVolume = await asNobody(['vol', 'overlay', 'ov2', '--backing', 'volume:nb1'], daemon.socket, base);
    assert.equal(onVolume.code, 0, onVolume.stderr);
  });

  it('a definition whose disk is a host path is refused (HTTP 403) at disks[0].path; volumes, templates and the domain directory are allowed', async () => {
    const def = join(base, 'def.yaml');
    await writeFile(def, `name: nbdisk\nmemory: 64M\ndisks:\n  - path: ${secret}\n    format: raw\n`);
    await chmod(def, 0o644);
    const r = await asNobody(['define', def], daemon.socket, base);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Client uid 65534 may not define domain 'nbdisk' as written/);
    assert.match(r.stderr, /def\.yaml:4:\d+.*disks\[0\]\.path.*A disk given by path outside the domain's directory .*: needs a client with uid 0, or a daemon started with --allow-raw/);
    assert.throws(() => daemon.conn.lookup('nbdisk'), /nbdisk/);
    // The same refusal straight through the API: 403 with the problem's path.
    const raw = await new Promise<string>((resolve) => {
      const script = `const http = require('node:http'); const body = JSON.stringify({ text: 'name: nbraw\\nmemory: 64M\\ndisks: [{ path: /etc/shadow, format: raw }]\\n' });
        const req = http.request({ socketPath: ${JSON.stringify(daemon.socket)}, path: '/v1/domains', method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => console.log(res.statusCode, b)); });
        req.end(body);`;
      const child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.on('close', () => resolve(out.trim()));
    });
    assert.match(raw, /^403 /);
    assert.match(raw, /"code":"PermissionDenied"/);
    assert.match(raw, /"path":"disks\[0\]\.path"/);
    const okDef = join(base, 'ok.yaml');
    await writeFile(okDef, `name: nbok\nmemory: 64M\ndisks:\n  - volume: nb1\n  - image: tiny\n    arch: x86_64\n  - path: ${join(domainDir(daemon.root, 'nbok'), 'scratch.qcow2')}\n    format: qcow2\n`);
    await chmod(okDef, 0o644);
    const ok = await asNobody(['define', okDef], daemon.socket, base);
    assert.equal(ok.code, 0, ok.stderr);
    await daemon.conn.undefine('nbok');
  });
});
