import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoDirs, readRepos } from '../../src/images/repo-config.js';
import { runCli } from '../helpers/cli.js';
import { REPO } from '../helpers/guest.js';
import { makeRepo, tinyIndex, type TestRepo } from './repo-fixture.js';

describe('vmkit image get shows its progress: plain lines, a bar on a terminal, JSON events with --json', () => {
  let repo: TestRepo;
  before(async () => {
    repo = await makeRepo('vmkit-test-progress-');
    await repo.publish(await tinyIndex(repo));
  });
  after(async () => {
    await repo.close();
  });
  const uri = (n: string): string => `embed://${join(repo.base, `root-${n}`)}`;
  const cache = (n: string): NodeJS.ProcessEnv => ({ ...repo.env(), VMKIT_IMAGE_CACHE: join(repo.base, `cache-${n}`) });

  it('without a terminal: a line naming the download, then percentages with sizes, rate and ETA', async () => {
    const r = await runCli(['image', 'get', 'tiny', '--arch', 'x86_64', '-c', uri('plain')], { env: cache('plain') }).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^vmkit: downloading ${repo.server.url}/tiny\\.img\\.xz\\n`));
    assert.match(r.stderr, /\nvmkit: 100% [\d.]+K of [\d.]+K, [\d.]+[KMG]?\/s, ETA \d+s\n/);
    assert.ok(!r.stderr.includes('\r') && !r.stderr.includes('\u001b['), 'no terminal control characters');
  });

  it('with --json: one {"type":"progress"} object per line on stderr, the result on stdout', async () => {
    const r = await runCli(['image', 'get', 'tiny', '--arch', 'x86_64', '--json', '-c', uri('json')], { env: cache('json') }).done;
    assert.equal(r.code, 0, r.stderr);
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { type: string; phase: string; bytes: number; total: number });
    assert.ok(events.length >= 1 && events.every((e) => e.type === 'progress' && e.phase === 'download'));
    const last = events[events.length - 1];
    assert.equal(last?.bytes, last?.total);
    assert.equal((JSON.parse(r.stdout) as { id: string }).id, 'tiny');
  });

  it('on a terminal (script(1) gives it one): a bar with bytes, rate and ETA', async () => {
    const env = { ...process.env, ...cache('tty'), TERM: 'xterm', COLUMNS: '100' };
    const cmd = [process.execPath, join(REPO, 'bin/vmkit'), 'image', 'get', 'tiny', '--arch', 'x86_64', '-c', uri('tty')].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn('script', ['-qefc', cmd, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      child.stderr.on('data', (c: Buffer) => (text += c.toString()));
      child.on('close', (code) => resolve({ code, text }));
    });
    assert.equal(out.code, 0, out.text);
    assert.match(out.text, new RegExp(`Downloading: ${repo.server.url}/tiny\\.img\\.xz`));
    assert.match(out.text, /\u001b\[1G =+ 100% \| [\d.]+K\/[\d.]+K \| [\d.]+[KMG]?\/s \| ETA \d+s\u001b\[0K/, 'a bar redrawn in place');
    assert.ok(!out.text.includes('vmkit: downloading'), 'not the plain lines');
  });
});

describe('repository configuration directories (virt-builder\'s, unchanged, after vmkit\'s own)', () => {
  it('repoDirs() searches vmkit\'s dirs, then virt-builder\'s user and system dirs; VMKIT_REPOS_DIRS replaces them', () => {
    assert.deepEqual(repoDirs({ HOME: '/home/u' }), ['/home/u/.config/vmkit/repos.d', '/etc/vmkit/repos.d', '/home/u/.config/virt-builder/repos.d', '/etc/virt-builder/repos.d']);
    assert.deepEqual(repoDirs({ HOME: '/home/u', XDG_CONFIG_HOME: '/cfg', VIRT_BUILDER_DIRS: '/usr/local/etc:/etc' }), ['/cfg/vmkit/repos.d', '/etc/vmkit/repos.d', '/cfg/virt-builder/repos.d', '/usr/local/etc/virt-builder/repos.d', '/etc/virt-builder/repos.d']);
    assert.deepEqual(repoDirs({ VMKIT_REPOS_DIRS: '/a:relative:/b' }), ['/a', '/b']);
  });

  it('a .conf file name or repository name seen in an earlier directory hides the same one later', async () => {
    const repo = await makeRepo('vmkit-test-dirs-');
    try {
      const [a, b] = [join(repo.base, 'a'), join(repo.base, 'b')];
      await mkdir(a);
      await mkdir(b);
      await writeFile(join(a, 'one.conf'), '[one]\nuri=http://127.0.0.1:1/a/index\n');
      await writeFile(join(b, 'one.conf'), '[hidden-by-file-name]\nuri=http://127.0.0.1:1/b/index\n');
      await writeFile(join(b, 'two.conf'), '[one]\nuri=http://127.0.0.1:1/b2/index\n\n[two]\nuri=http://127.0.0.1:1/two/index\nproxy=off\n');
      const { repos } = await readRepos([a, join(repo.base, 'missing'), b]);
      assert.deepEqual(repos.map((r) => [r.name, r.uri]), [['one', 'http://127.0.0.1:1/a/index'], ['two', 'http://127.0.0.1:1/two/index']]);
    } finally {
      await repo.close();
    }
  });
});
