import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVmkitError } from '../../src/errors.js';
import { imageInfo } from '../../src/storage/qemu-img.js';
import { checkVolumeName, VolumeService } from '../../src/storage/volumes.js';

describe('volumes through qemu-img (real qemu-img; overlays written directly)', () => {
  let base: string;
  let vols: VolumeService;
  const used = new Map<string, { domain: string; running: boolean }[]>();
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-vol-'));
    await writeFile(join(base, 'base.raw'), Buffer.alloc(1024 * 1024, 1));
    vols = new VolumeService({ dir: join(base, 'volumes'), usedBy: (n) => used.get(n) ?? [], findImage: async (id) => (id === 'tiny' ? { path: join(base, 'base.raw'), format: 'raw' } : undefined) });
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('create, info, resize, list and delete a volume; the format is in vmkit\'s file name', async () => {
    const v = await vols.create('data', { size: 64 * 1024 * 1024 });
    assert.deepEqual([v.format, v.virtualSize, v.path], ['qcow2', 64 * 1024 * 1024, join(base, 'volumes', 'data.qcow2')]);
    await vols.create('raw1', { size: 1024 * 1024, format: 'raw' });
    assert.equal((await vols.resize('data', { size: 128 * 1024 * 1024 })).virtualSize, 128 * 1024 * 1024);
    await assert.rejects(vols.resize('data', { size: 1024 * 1024 }), /shrinking it/);
    assert.deepEqual((await vols.list()).map((x) => `${x.name}:${x.format}`), ['data:qcow2', 'raw1:raw']);
    await assert.rejects(vols.create('data', { size: 1 }), (e: unknown) => isVmkitError(e) && e.code === 'AlreadyExists');
    used.set('raw1', [{ domain: 'web', running: false }]);
    await assert.rejects(vols.delete('raw1'), /domain 'web' uses it/);
    used.clear();
    await vols.delete('raw1');
    await assert.rejects(vols.info('raw1'), (e: unknown) => isVmkitError(e) && e.code === 'NotFound');
  });

  it('an overlay names its backing file and format, passes qemu-img check, and is made without qemu-img', async () => {
    const o = await vols.overlay('ov', { backing: { image: 'tiny' }, size: 10 * 1024 ** 3 });
    assert.deepEqual([o.backingFile, o.backingFormat, o.virtualSize], [join(base, 'base.raw'), 'raw', 10 * 1024 ** 3]);
    const info = await imageInfo(o.path, 'qcow2');
    assert.deepEqual([info.format, info.backingFile, info.backingFormat, info.virtualSize], ['qcow2', join(base, 'base.raw'), 'raw', 10 * 1024 ** 3]);
    assert.match(execFileSync('qemu-img', ['check', '-f', 'qcow2', o.path]).toString(), /No errors were found/);
    const chained = await vols.overlay('ov2', { backing: { volume: 'ov' } });
    assert.equal(chained.backingFormat, 'qcow2');
    assert.equal(chained.virtualSize, 10 * 1024 ** 3);
    await assert.rejects(vols.overlay('small', { backing: { image: 'tiny' }, size: 4096 }), /cannot be smaller/);
    await assert.rejects(vols.overlay('x', { backing: { image: 'nope' } }), /not in the image cache/);
    await assert.rejects(vols.overlay('x', { backing: { path: join(base, 'base.raw'), format: 'raw' }, caller: { uid: 1000 } }), (e: unknown) => isVmkitError(e) && e.code === 'PermissionDenied');
    assert.equal((await vols.overlay('byroot', { backing: { path: join(base, 'base.raw'), format: 'raw' }, caller: { uid: 0 } })).backingFile, join(base, 'base.raw'));
    assert.ok(!(await readdir(join(base, 'volumes'))).some((f) => f.startsWith('.')), 'no temporary file is left');
  });

  it('refuses volume names that could leave the directory or clash with the format suffix', () => {
    for (const bad of ['', '../x', 'a/b', '.hidden', 'x.qcow2', 'x.raw', 'a'.repeat(65)]) assert.throws(() => checkVolumeName(bad), /Invalid volume name/);
    checkVolumeName('web-1_disk.v2');
  });
});
