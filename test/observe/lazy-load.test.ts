/**
 * Metrics and the dashboard load only when asked for: `vmkit list` and a daemon started without --web or
 * --metrics load neither prom-client nor ws nor the web server; the daemon's first GET /metrics loads
 * prom-client (and still not ws). Checked on real bundled runs that record every module they load.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDead, waitUntil } from '../helpers/cli.js';
import { REPO } from '../helpers/guest.js';
import { assertBundleFresh, BUNDLE_DIR, loadedModules, runNode, writeLoadRecorder } from '../build/helpers.js';

const VMKIT = join(REPO, 'bin/vmkit');

/** The sources (metafile inputs) of the bundle files among `urls`. */
function sources(urls: readonly string[]): string[] {
  const meta = JSON.parse(readFileSync(join(BUNDLE_DIR, 'meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  return urls.filter((u) => u.includes('/dist/bundle/')).flatMap((u) => Object.keys(meta.outputs[u.slice(u.indexOf('/dist/bundle/') + 1)]?.inputs ?? {}));
}

const observeParts = (srcs: readonly string[]): string[] => srcs.filter((s) => /node_modules\/(prom-client|ws)\/|dist\/src\/web\/|dist\/src\/observe\/metrics/.test(s));

describe('what loads the observation code', () => {
  let base: string;
  before(async () => {
    assertBundleFresh();
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-lazy-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('vmkit list and vmkit --version load no metrics or web code', async () => {
    for (const args of [['--version'], ['list', '--all', '--json', '-c', `embed://${join(base, 'root-list')}`]]) {
      const dir = join(base, args[0] ?? 'x');
      mkdirSync(dir);
      const log = join(dir, 'loaded.txt');
      const r = await runNode(['--import', writeLoadRecorder(dir, log), VMKIT, ...args]);
      assert.equal(r.code, 0, r.stderr);
      const srcs = sources(loadedModules(log));
      assert.ok(srcs.length > 0);
      assert.deepEqual(observeParts(srcs), [], args.join(' '));
    }
  });

  it('a daemon without --web/--metrics loads prom-client only with the first GET /metrics, and never ws', { timeout: 60_000 }, async () => {
    const dir = join(base, 'daemon');
    mkdirSync(dir);
    const log = join(dir, 'loaded.txt');
    const socket = join(dir, 'd.sock');
    const child = spawn(process.execPath, ['--import', writeLoadRecorder(dir, log), VMKIT, 'daemon', '--socket', socket, '--root', join(dir, 'root'), '--json'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      assert.ok(await waitUntil(async () => /^\}$/m.test(out), 30_000, 50), 'the daemon started');
      assert.deepEqual(observeParts(sources(loadedModules(log))), []);
      const body = await new Promise<string>((resolve, reject) => {
        http.get({ socketPath: socket, path: '/metrics' }, (res) => {
          let t = '';
          res.on('data', (c: Buffer) => (t += c.toString()));
          res.on('end', () => resolve(t));
        }).on('error', reject);
      });
      assert.match(body, /^vmkit_domains\{state="shutoff"\} 0$/m);
      const after = sources(loadedModules(log));
      assert.ok(after.some((s) => s.includes('node_modules/prom-client/')), 'prom-client loaded for /metrics');
      assert.deepEqual(after.filter((s) => /node_modules\/ws\/|dist\/src\/web\//.test(s)), []);
    } finally {
      if (child.pid !== undefined && !(await isDead(child.pid))) child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
  });
});
