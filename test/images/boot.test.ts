import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEmbedded, type Connection } from '../../src/index.js';
import { ACCEL_NOTE, tinyGuest, tinyYaml } from '../helpers/guest.js';
import { makeRepo, tinyIndex, type TestRepo } from './repo-fixture.js';

const MiB = 1024 * 1024;

async function bootReport(conn: Connection, name: string, disks: string): Promise<string> {
  const d = await conn.define({ text: tinyYaml({ name, action: 'report', extra: `disks:\n${disks}` }) });
  let text = '';
  d.on('console', (c) => {
    text += c.toString();
  });
  await d.start();
  const stop = await d.waitStopped();
  assert.equal(stop?.reason, 'shutdown', `${name}: ${stop?.message ?? ''}\n${text}`);
  assert.match(text, /VMKIT-REPORT-END/, text);
  return text;
}

describe(`disks built from a template boot the tiny guest, which reads the seed's hostname (real QEMU; ${ACCEL_NOTE})`, () => {
  let repo: TestRepo;
  let conn: Connection;
  before(async () => {
    tinyGuest();
    repo = await makeRepo('vmkit-test-imgboot-');
    await repo.publish(await tinyIndex(repo));
    conn = await openEmbedded({ root: join(repo.base, 'root'), imageCacheDir: repo.cacheDir, repoDirs: [repo.reposDir] });
  });
  after(async () => {
    await conn?.close();
    await repo?.close();
  });

  it('a raw build (resized) with its seed beside it', { timeout: 120_000 }, async () => {
    const out = join(repo.base, 'out', 'raw.img');
    const r = await conn.images.build('tiny', { arch: 'x86_64', output: { path: out }, size: 64 * MiB, customize: { hostname: 'raw-guest' } });
    assert.deepEqual([r.output, r.format, r.size, r.seed], [out, 'raw', 64 * MiB, join(repo.base, 'out', 'raw-cidata.img')]);
    assert.equal((await stat(out)).size, 64 * MiB);
    const text = await bootReport(conn, 'from-raw', `  - { path: ${out}, format: raw }\n  - { path: ${r.seed ?? ''}, format: raw, readonly: true }\n`);
    assert.match(text, /VMKIT-REPORT disk name=vda size=131072 ro=0/);
    assert.match(text, /VMKIT-REPORT seed=vdb\r?\n/);
    assert.match(text, /VMKIT-REPORT hostname=raw-guest\r?\n/);
  });

  it('a qcow2 overlay built into a volume, and an image disk made at start, resolved by name', { timeout: 120_000 }, async () => {
    const r = await conn.images.build('tiny', { arch: 'x86_64', output: { volume: 'web' }, format: 'qcow2', customize: { hostname: 'overlay-guest' } });
    assert.deepEqual([r.volume, r.seedVolume, r.format], ['web', 'web-cidata', 'qcow2']);
    const info = await conn.volumes.info('web');
    assert.deepEqual([info.format, info.backingFile, info.backingFormat], ['qcow2', r.image.path, 'raw']);
    const text = await bootReport(conn, 'from-volume', '  - { volume: web }\n  - { volume: web-cidata, readonly: true }\n  - { image: tiny, arch: x86_64, size: 32M }\n');
    assert.match(text, /VMKIT-REPORT disk name=vda size=4096 ro=0/);
    assert.match(text, /VMKIT-REPORT disk name=vdc size=65536 ro=0/);
    assert.match(text, /VMKIT-REPORT hostname=overlay-guest\r?\n/);
    const overlay = join(repo.base, 'root', 'vm', 'from-volume', 'disk2.qcow2');
    assert.ok((await stat(overlay)).isFile(), 'the image disk is an overlay in the domain\'s directory');
    await assert.rejects(conn.volumes.delete('web'), /uses it/);
  });

  it('a start whose template is not cached fails at the disk\'s line, and nothing runs', { timeout: 30_000 }, async () => {
    const d = await conn.define({ text: tinyYaml({ name: 'no-template', action: 'report', extra: 'disks:\n  - { image: tiny, arch: aarch64 }\n' }) });
    await assert.rejects(d.start(), (e: unknown) => {
      const p = ((e as { details?: { problems?: { line?: number; path: string; message: string }[] } }).details?.problems ?? [])[0];
      assert.equal(p?.path, 'disks[0].image');
      assert.match(p?.message ?? '', /vmkit image get tiny --arch aarch64/);
      return true;
    });
    assert.equal(d.state(), 'shutoff');
  });
});
