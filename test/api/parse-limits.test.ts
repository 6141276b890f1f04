/**
 * Deep, wide or slow definitions get a clear refusal everywhere: HTTP 422 with the problem from the daemon
 * (never a 500 "RangeError"), exit status 2 from the CLI.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type Daemon } from '../../src/api/daemon.js';
import { Transport } from '../../src/api/transport.js';
import { ConfigError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { manyDisksYaml } from '../driver/fixtures.js';

const XML_HEAD = "<domain type='kvm'><name>x</name><memory unit='KiB'>1048576</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type></os>";
const DEEP_XML = `${XML_HEAD}<devices>${'<a>'.repeat(8000)}${'</a>'.repeat(8000)}</devices></domain>`;
const DEEP_YAML = `name: x\nextra: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
const SLOW = `name: slow\nnics:\n${Array.from({ length: 30_000 }, (_, i) => `  - { type: tapx, model: virtio${i} }`).join('\n')}\n`;

const configError = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ConfigError, String(e));
  assert.ok(e.problems.some((p) => re.test(p.message)), JSON.stringify(e.problems.slice(0, 3)));
  return true;
};

describe('parse limits through the daemon', () => {
  let base: string;
  let daemon: Daemon;
  const log: string[] = [];
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-limits-'));
    daemon = await startDaemon({ version: 'test', socket: join(base, 'd.sock'), root: join(base, 'root'), noSync: true, autostart: false, parseThreads: 1, parseTimeLimitMs: 300, log: (l) => log.push(l) });
  });
  after(async () => {
    await daemon?.stop();
    await rm(base, { recursive: true, force: true });
  });

  it('8000-deep XML and 5000-deep YAML are 422 with the nesting problem, not 500', { timeout: 60_000 }, async () => {
    const t = new Transport(daemon.socket);
    try {
      await assert.rejects(t.request('POST', '/v1/domains', { text: DEEP_XML }), configError(/nested too deeply: more than 64 levels/));
      await assert.rejects(t.request('POST', '/v1/domains', { text: DEEP_YAML }), configError(/nested too deeply: more than 64 levels/));
      const batch = await t.request<{ results: { error?: { code: string } }[] }>('POST', '/v1/batch/define', { definitions: [{ text: DEEP_XML }, { text: DEEP_YAML }] });
      assert.deepEqual(
        batch.results.map((r) => r.error?.code),
        ['InvalidConfig', 'InvalidConfig'],
      );
    } finally {
      t.close();
    }
    assert.ok(!log.some((l) => /internal error/.test(l)), log.join('\n'));
  });

  it('a definition past the parse time limit is 422 naming the limit; the daemon goes on defining', { timeout: 120_000 }, async () => {
    const t = new Transport(daemon.socket);
    try {
      await assert.rejects(t.request('POST', '/v1/domains', { text: SLOW }), configError(/took longer than 300 ms, the most one definition may take/));
      // Past the size read on the event loop (64 KiB), so it goes to a (new) parser thread.
      const big = manyDisksYaml('after-limit', 1000);
      assert.ok(big.length > 64 * 1024);
      const d = await t.request<{ name: string }>('POST', '/v1/domains', { text: big });
      assert.equal(d.name, 'after-limit');
    } finally {
      t.close();
    }
  });
});

describe('parse limits through the CLI', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-test-limits-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('vmkit validate of 8000-deep XML and 5000-deep YAML exits 2 with the problem at file:line:col', { timeout: 60_000 }, async () => {
    for (const [name, text, line] of [
      ['deep.xml', DEEP_XML, 1],
      ['deep.yaml', DEEP_YAML, 2],
    ] as const) {
      const file = join(dir, name);
      await writeFile(file, text);
      const r = await runCli(['validate', '--no-host', file]).done;
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}:\\d+: .*nested too deeply: more than 64 levels`));
      assert.doesNotMatch(r.stdout + r.stderr, /RangeError|internal error/i);
    }
  });
});
