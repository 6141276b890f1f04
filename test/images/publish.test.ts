import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ImageService } from '../../src/images/service.js';
import { parseIndex } from '../../src/images/index-file.js';
import { runCli } from '../helpers/cli.js';
import { makeRepo, testDisk, type TestRepo } from './repo-fixture.js';

describe('vmkit image index DIR --sign KEYFILE publishes a folder of templates', () => {
  let repo: TestRepo;
  before(async () => {
    repo = await makeRepo('vmkit-test-publish-');
  });
  after(async () => {
    await repo.close();
  });

  it('writes index and index.asc (sha512, sizes) that vmkit verifies and downloads, for xz, gzip, zstd and qcow2 templates', async () => {
    const disk = testDisk();
    await writeFile(join(repo.dir, 'gz.img.gz'), gzipSync(disk));
    await writeFile(join(repo.dir, 'zs.img'), disk);
    execFileSync('zstd', ['-q', '--rm', join(repo.dir, 'zs.img')]);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(repo.dir, 'q.qcow2'), '64M']);
    const secret = join(repo.base, 'secret.asc');
    await writeFile(secret, repo.secretKey, { mode: 0o600 });
    const run = await runCli(['image', 'index', repo.dir, '--sign', secret, '--arch', 'x86_64'], { env: repo.env() }).done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Wrote .*index and .*index\.asc: 4 templates\n/);
    const entries = parseIndex(await readFile(join(repo.dir, 'index'), 'utf8'), pathToFileURL(join(repo.dir, 'index')).href);
    assert.deepEqual(entries.map((e) => [e.id, e.file, e.format, e.size, e.revision]), [
      ['gz', 'gz.img.gz', 'raw', disk.length, 1],
      ['q', 'q.qcow2', 'qcow2', 64 * 1024 * 1024, 1],
      ['tiny', 'tiny.img.xz', 'raw', disk.length, 1],
      ['zs', 'zs.img.zst', 'raw', disk.length, 1],
    ]);
    for (const e of entries) assert.equal(e.compressedSize, (await readFile(join(repo.dir, e.file))).length, `${e.id}: compressed_size`);
    assert.ok(!(await readdir(repo.dir)).some((f) => f.startsWith('.')), 'no scratch file left in the folder');

    const service = new ImageService({ cacheDir: repo.cacheDir, repoDirs: [repo.reposDir] });
    for (const id of ['gz', 'zs', 'tiny']) assert.deepEqual(await readFile((await service.get(id, { arch: 'x86_64' })).path), disk, `${id} downloads, verifies and decompresses`);
    const q = await service.get('q', { arch: 'x86_64' });
    assert.equal(q.format, 'qcow2');
  });

  it('keeps what a person wrote in the index and raises the revision of a template whose file changed', async () => {
    const text = await readFile(join(repo.dir, 'index'), 'utf8');
    await writeFile(join(repo.dir, 'index'), text.replace('[gz]\n', '[gz]\nname=Gzipped disk\naliases=gz-latest\nnotes=Line one\n second line\n'));
    const changed = testDisk();
    changed.write('CHANGED', 100);
    await writeFile(join(repo.dir, 'gz.img.gz'), gzipSync(changed));
    const run = await runCli(['image', 'index', repo.dir], { env: repo.env() }).done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /removed .*index\.asc: it no longer matched/);
    assert.ok(!(await readdir(repo.dir)).includes('index.asc'), 'the stale signed index is gone');
    const entries = parseIndex(await readFile(join(repo.dir, 'index'), 'utf8'), pathToFileURL(join(repo.dir, 'index')).href);
    const gz = entries.find((e) => e.id === 'gz');
    assert.equal(gz?.name, 'Gzipped disk');
    assert.deepEqual(gz?.aliases, ['gz-latest']);
    assert.equal(gz?.revision, 2);
    assert.equal(entries.find((e) => e.id === 'tiny')?.revision, 1, 'an unchanged file keeps its revision');
  });

  it('refuses a folder without templates and a missing signing key, and writes nothing', async () => {
    const empty = join(repo.base, 'root');
    execFileSync('mkdir', ['-p', empty]);
    const none = await runCli(['image', 'index', empty], { env: repo.env() }).done;
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /holds no template/);
    const before = await readFile(join(repo.dir, 'index'), 'utf8');
    const nokey = await runCli(['image', 'index', repo.dir, '--sign', join(repo.base, 'missing.asc')], { env: repo.env() }).done;
    assert.notEqual(nokey.code, 0);
    assert.match(nokey.stderr, /Cannot read the signing key .*missing\.asc/);
    assert.equal(await readFile(join(repo.dir, 'index'), 'utf8'), before, 'index is not rewritten');
    assert.ok(!(await readdir(repo.dir)).includes('index.asc'));
  });
});
