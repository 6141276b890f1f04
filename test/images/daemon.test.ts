import assert from 'node:assert/strict';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, isVmkitError, RemoteConnection } from '../../src/index.js';
import type { Progress } from '../../src/images/types.js';
import { daemonBase, spawnDaemon, type DaemonProc } from '../api/daemon-process.js';
import { runCli } from '../helpers/cli.js';
import { makeRepo, tinyIndex, type TestRepo } from './repo-fixture.js';

describe('images and volumes through the daemon (NDJSON progress, outputs in the root)', () => {
  let repo: TestRepo;
  let daemon: DaemonProc;
  let base: string | undefined;
  let conn: RemoteConnection;
  before(async () => {
    repo = await makeRepo('vmkit-test-imgd-');
    await repo.publish(await tinyIndex(repo));
    // The daemon (a child of this test) reads the test's repository and cache.
    process.env.VMKIT_REPOS_DIRS = repo.reposDir;
    process.env.VMKIT_IMAGE_CACHE = repo.cacheDir;
    base = await daemonBase('vmkit-test-imgd-base-');
    daemon = await spawnDaemon(join(base, 'd.sock'), join(base, 'root'), ['--no-autostart']);
    conn = (await connect(`unix://${daemon.socket}`)) as RemoteConnection;
  });
  after(async () => {
    await conn?.close();
    await daemon?.stop();
    await repo?.close();
    if (base !== undefined) await rm(base, { recursive: true, force: true });
  });

  it('lists, downloads with progress events, builds into a volume, and serves the volumes', async () => {
    const list = await conn.images.list();
    assert.deepEqual(list.templates.map((t) => t.id), ['tiny']);
    const events: Progress[] = [];
    const img = await conn.images.get('tiny', { arch: 'x86_64', onProgress: (p) => events.push(p) });
    assert.equal(img.path, join(repo.cacheDir, 'tiny.x86_64.1'));
    assert.ok(events.length >= 1 && events.every((e) => e.phase === 'download' && typeof e.bytes === 'number'), JSON.stringify(events));
    const r = await conn.images.build('tiny', { arch: 'x86_64', output: { volume: 'vm1' }, format: 'qcow2', customize: { hostname: 'vm1', rootPassword: '\u0000random' } });
    assert.equal(r.output, join(daemon.root, 'volumes', 'vm1.qcow2'));
    assert.equal(r.seed, join(daemon.root, 'volumes', 'vm1-cidata.raw'));
    assert.match(r.rootPassword ?? '', /^[A-Za-z0-9_-]{20}$/);
    const owner = (await stat(r.output)).uid;
    assert.notEqual(owner, 0, 'a volume belongs to the account QEMU runs as');
    assert.deepEqual((await conn.volumes.list()).map((v) => v.name), ['vm1', 'vm1-cidata']);
    const ov = await conn.volumes.overlay('vm2', { backing: { image: 'tiny', arch: 'x86_64' }, size: 8 * 1024 * 1024 });
    assert.deepEqual([ov.backingFile, ov.virtualSize], [img.path, 8 * 1024 * 1024]);
    assert.equal((await conn.volumes.resize('vm2', { size: 16 * 1024 * 1024 })).virtualSize, 16 * 1024 * 1024);
    await conn.volumes.delete('vm2');
    await assert.rejects(conn.volumes.info('vm2'), (e: unknown) => isVmkitError(e) && e.code === 'NotFound');
    await assert.rejects(conn.images.get('nope'), (e: unknown) => isVmkitError(e) && e.code === 'NotFound' && /vmkit image list/.test(e.message));
  });

  it('the CLI talks to it: vol list, image list, and a build to a path by a root client', async () => {
    const env = { VMKIT_URI: `unix://${daemon.socket}` };
    const vols = await runCli(['vol', 'list'], { env }).done;
    assert.equal(vols.code, 0, vols.stderr);
    assert.match(vols.stdout, /^vm1 +qcow2 +2\.0M/m);
    assert.equal((await runCli(['image', 'list'], { env }).done).stdout, 'tiny                     x86_64     Tiny test guest\n');
    const out = join(repo.base, 'by-root.img');
    const b = await runCli(['image', 'build', 'tiny', '--arch', 'x86_64', '-o', out, '--json'], { env }).done;
    assert.equal(b.code, 0, b.stderr);
    assert.equal((await stat(out)).size, repo.disk.length);
  });
});
