import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVmkitError } from '../../src/errors.js';
import { ImageService } from '../../src/images/service.js';
import { generateSigningKey } from '../../src/images/signature.js';
import { runCli } from '../helpers/cli.js';
import { makeRepo, tinyIndex, type TestRepo } from './repo-fixture.js';

describe('template repositories served on 127.0.0.1 (signed with a key made by the test)', () => {
  let repo: TestRepo;
  let service: ImageService;
  before(async () => {
    repo = await makeRepo();
    await repo.publish(await tinyIndex(repo));
    service = new ImageService({ cacheDir: repo.cacheDir, repoDirs: [repo.reposDir] });
  });
  after(async () => {
    await repo.close();
  });

  const cli = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    runCli([...args, '-c', `embed://${join(repo.base, 'root')}`], { env: { ...repo.env(), LANG: 'C', LC_ALL: '', LC_MESSAGES: '', ...env } }).done;

  it('vmkit image list, list --long and notes print what virt-builder prints', async () => {
    const short = await cli(['image', 'list']);
    assert.equal(short.code, 0, short.stderr);
    assert.equal(short.stdout, 'tiny                     x86_64     Tiny test guest\n');
    const xz = await readFile(join(repo.dir, 'tiny.img.xz'));
    const long = await cli(['image', 'list', '--long']);
    assert.equal(
      long.stdout,
      [
        `Source URI: ${repo.server.url}/index.asc`,
        `Key: ${repo.keyFile}`,
        '',
        'os-version:              tiny',
        'Full name:               Tiny test guest',
        'Architecture:            x86_64',
        'Minimum/default size:    2.0M',
        `Download size:           ${(xz.length / 1024).toFixed(1)}K`,
        'Aliases:                 tiny-latest',
        '',
        'Notes:',
        '',
        "The tiny test guest's data disk.",
        '',
        'It only holds a marker.',
        '',
        '',
      ].join('\n'),
    );
    assert.equal((await cli(['image', 'notes', 'tiny'])).stdout, "The tiny test guest's data disk.\n\nIt only holds a marker.\n");
    assert.equal((await cli(['image', 'notes', 'tiny-latest'], { LANG: 'fr_FR.UTF-8' })).stdout, 'Le disque du petit invité.\n');
    const json = JSON.parse((await cli(['image', 'list', '--json'])).stdout) as { templates: { 'os-version': string; hidden: boolean }[] };
    assert.deepEqual(json.templates.map((t) => [t['os-version'], t.hidden]), [['tiny', false]]);
  });

  it('get downloads, checks the SHA-512, decompresses the xz stream and caches by id, arch and revision', async () => {
    const events: number[] = [];
    const img = await service.get('tiny', { arch: 'x86_64', onProgress: (p) => events.push(p.bytes) });
    assert.equal(img.path, join(repo.cacheDir, 'tiny.x86_64.1'));
    assert.deepEqual(await readFile(img.path), repo.disk);
    assert.equal(img.format, 'raw');
    assert.ok(events.length >= 1, 'progress was reported');
    const before = repo.server.requests.length;
    assert.equal((await service.get('tiny-latest', { arch: 'x86_64' })).path, img.path);
    assert.ok(repo.server.requests.slice(before).every((r) => r.path.endsWith('index.asc')), 'the cached template is not downloaded again');
    assert.deepEqual((await readdir(repo.cacheDir)).sort(), ['tiny.x86_64.1', 'tiny.x86_64.1.json']);
  });

  it('a download cut off half-way resumes with a range request and still verifies', async () => {
    await repo.publish(await tinyIndex(repo, 'revision=2'));
    repo.server.truncateOnce.add('tiny.img.xz');
    const from = repo.server.requests.length;
    const img = await service.get('tiny', { arch: 'x86_64' });
    assert.equal(img.revision, 2);
    assert.deepEqual(await readFile(img.path), repo.disk);
    const gets = repo.server.requests.slice(from).filter((r) => r.path.endsWith('tiny.img.xz'));
    const size = (await readFile(join(repo.dir, 'tiny.img.xz'))).length;
    assert.deepEqual(gets, [{ path: '/repo/tiny.img.xz' }, { path: '/repo/tiny.img.xz', range: `bytes=${Math.floor(size / 2)}-` }]);
    assert.ok(!(await readdir(repo.cacheDir)).some((f) => f.endsWith('.part') || f.endsWith('.lock')));
  });

  it('refuses a template whose SHA-512 does not match, and keeps nothing of it', async () => {
    await repo.publish((await tinyIndex(repo, 'revision=3')).replace(/checksum\[sha512\]=[0-9a-f]+/, `checksum[sha512]=${'0'.repeat(128)}`));
    await assert.rejects(service.get('tiny', { arch: 'x86_64' }), (e: unknown) => isVmkitError(e) && e.details.reason === 'checksum' && /does not match the index/.test(e.message));
    assert.ok(!(await readdir(repo.cacheDir)).some((f) => f.startsWith('tiny.x86_64.3') || f.startsWith('.')), 'no part, no temporary, no cached file');
  });

  it('refuses a tampered index, an unsigned one, one signed by an unknown key, and file=../x', async () => {
    const good = await tinyIndex(repo);
    await repo.publish(good);
    const asc = await readFile(join(repo.dir, 'index.asc'), 'utf8');
    await writeFile(join(repo.dir, 'index.asc'), asc.replace('size=2097152', 'size=2097153'));
    await assert.rejects(service.list(), /tampered or corrupt/);

    await repo.configure({ file: 'index' });
    await assert.rejects(service.list(), /it is not signed/);
    assert.equal((await service.list({ noCheckSignature: true })).templates[0]?.id, 'tiny', '--no-check-signature accepts it');
    await repo.configure({ key: false });
    await assert.rejects(service.list(), /names no gpgkey=/);
    await repo.configure();

    const other = await generateSigningKey('someone else', 'else@vmkit.example');
    await repo.publish(good, other.privateKey);
    await assert.rejects(service.list(), (e: unknown) => isVmkitError(e) && /signed by key id [0-9a-f]{16}, not by the configured key/.test(e.message));

    await repo.publish(good.replace('file=tiny.img.xz', 'file=../x'));
    await assert.rejects(service.list(), (e: unknown) => {
      const p = (isVmkitError(e) ? (e.details.problems as { line: number; path: string }[]) : [])[0];
      return p?.line === 5 && p.path === '[tiny].file';
    });
    await repo.publish(good);
  });

  it('an interrupted build leaves no output and no temporary file', async () => {
    await repo.publish(await tinyIndex(repo, 'revision=7'));
    repo.server.throttle = 64 * 1024;
    const out = join(repo.base, 'out');
    const abort = new AbortController();
    const build = service.build('tiny', { arch: 'x86_64', output: { path: join(out, 'disk.img') }, customize: { hostname: 'h1' }, signal: abort.signal, onProgress: () => abort.abort() });
    await assert.rejects(build, (e: unknown) => isVmkitError(e) && e.code === 'Aborted');
    repo.server.throttle = 0;
    assert.deepEqual(await readdir(out), []);
    const left = await readdir(repo.cacheDir);
    assert.ok(!left.some((f) => f === 'tiny.x86_64.7' || f.startsWith('.tiny')), `no unverified template (${left.join(', ')})`);
  });
});
