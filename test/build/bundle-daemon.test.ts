/**
 * The bundled daemon (bin/vmkit daemon runs dist/bundle/): its worker threads and spawn server are bundle
 * entries found by URL next to the code that starts them, and its request-body validators were generated at
 * build time.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Transport } from '../../src/api/transport.js';
import { openApiDocument } from '../../src/api/openapi.js';
import { validateBody, DefineBody } from '../../src/api/schemas.js';
import { VERSION } from '../../src/cli/version.js';
import { childPids, cmdline, isDead, waitUntil } from '../helpers/cli.js';
import { REPO, tinyYaml } from '../helpers/guest.js';
import { assertBundleFresh, loadedModules, runNode, schemaCompilers, writeLoadRecorder } from './helpers.js';

const VMKIT = join(REPO, 'bin/vmkit');

describe('the bundled daemon', () => {
  let base: string;
  let socket: string;
  let log: string;
  let pid: number;
  let stopped: Promise<number | null>;
  before(async () => {
    assertBundleFresh();
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-bundle-daemon-'));
    socket = join(base, 'd.sock');
    log = join(base, 'loaded.txt');
    mkdirSync(join(base, 'hooks'));
    // NODE_OPTIONS reaches the daemon's worker threads too: the recorder sees what they load.
    const preload = writeLoadRecorder(join(base, 'hooks'), log);
    const child = spawn(process.execPath, [VMKIT, 'daemon', '--socket', socket, '--root', join(base, 'root'), '--json'], {
      cwd: REPO,
      env: { ...process.env, NODE_OPTIONS: `--import ${preload}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    stopped = new Promise((resolve) => child.once('close', (code) => resolve(code)));
    const ready = await waitUntil(async () => /^\}$/m.test(out) || child.exitCode !== null, 30_000, 50);
    assert.ok(ready && child.exitCode === null, `the daemon did not start:\n${out}\n${err}`);
    pid = child.pid as number;
  });
  after(async () => {
    if (pid !== undefined && !(await isDead(pid))) process.kill(pid, 'SIGTERM');
    await stopped;
    await rm(base, { recursive: true, force: true });
  });

  it('serves a define and a list from its bundle entries, never loading a schema compiler', { timeout: 60_000 }, async () => {
    const file = join(base, 'a.yaml');
    writeFileSync(file, tinyYaml({ name: 'bundled-a' }));
    const uri = `unix://${socket}`;
    const def = await runNode([VMKIT, 'define', '-c', uri, file]);
    assert.equal(def.code, 0, def.stderr);
    const list = await runNode([VMKIT, 'list', '--all', '--json', '-c', uri]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as { name: string; state: string }[]).map((d) => [d.name, d.state]), [['bundled-a', 'shutoff']]);
    assert.ok((await readFile(join(base, 'root/domains/bundled-a.json'), 'utf8')).includes('bundled-a'));

    const loaded = loadedModules(log);
    assert.deepEqual(schemaCompilers(loaded), []);
    const own = loaded.filter((u) => u.includes(`${REPO}/dist/`)).map((u) => u.slice(u.indexOf('/dist/')));
    assert.ok(own.every((u) => u.startsWith('/dist/bundle/')), own.join('\n'));
    for (const thread of ['parse-thread.js', 'store-writer-thread.js']) assert.ok(own.includes(`/dist/bundle/${thread}`), `${thread} ran as a worker thread`);
    // The spawn server is a process of its own, started from its bundle entry.
    const servers = await Promise.all((await childPids(pid)).map(cmdline));
    assert.ok(servers.some((c) => c?.some((a) => a.endsWith('/dist/bundle/spawn-server.js'))), JSON.stringify(servers));
  });

  it('serves the tsc build\'s OpenAPI document and refuses a bad body with the tsc build\'s message', { timeout: 30_000 }, async () => {
    const t = new Transport(socket);
    try {
      assert.deepEqual(await t.request('GET', '/openapi.json'), JSON.parse(JSON.stringify(openApiDocument(VERSION))));
      const body = { text: 3, bogus: true };
      let expected = '';
      try {
        validateBody(DefineBody, body);
      } catch (e) {
        expected = (e as Error).message;
      }
      assert.match(expected, /^Invalid request body: /);
      await assert.rejects(t.request('POST', '/v1/domains', body), (e: unknown) => e instanceof Error && e.message === expected);
    } finally {
      t.close();
    }
  });

  it('stops on SIGTERM', { timeout: 30_000 }, async () => {
    process.kill(pid, 'SIGTERM');
    assert.equal(await stopped, 0);
    assert.ok(await waitUntil(() => isDead(pid), 5_000));
  });
});
