import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, openEmbedded, VmkitError, type LifecycleEvent } from '../../src/index.js';
import { countSpawns, manyDisksYaml, pausedYaml } from './fixtures.js';

const isCode = (code: string, re?: RegExp) => (e: unknown) => e instanceof VmkitError && e.code === code && (re === undefined || re.test(e.message));

describe('persistent domains in an embedded root (no QEMU)', () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-store-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('definitions survive closing and reopening the root, with their UUID, text, autostart and policies', async () => {
    const root = join(base, 'persist');
    const a = await openEmbedded({ root });
    const text = pausedYaml('web1');
    const d = await a.define({ text }, { autostart: true, policies: { onCrash: 'restart' } });
    await a.define({ text: pausedYaml('web2') });
    assert.match(d.uuid, /^[0-9a-f-]{36}$/);
    assert.equal(a.lookup(d.uuid).name, 'web1', 'lookup by UUID');
    await a.close();

    const b = await openEmbedded({ root });
    try {
      assert.deepEqual(b.list().map((x) => x.name).sort(), ['web1', 'web2']);
      const again = b.lookup('web1');
      assert.equal(again.uuid, d.uuid);
      assert.equal((await again.definition()).text, text);
      const info = await again.info();
      assert.equal(info.autostart, true);
      assert.deepEqual(info.policies, { onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'restart' });
      assert.equal(info.state, 'shutoff');
      assert.equal(info.format, 'vmkit-yaml');
      assert.equal(again.spec.uuid, d.uuid, 'the stored spec carries the generated UUID');
    } finally {
      await b.close();
    }
  });

  it('redefining keeps the UUID; a conflicting UUID or a UUID used by another domain is AlreadyExists', async () => {
    const conn = await openEmbedded({ root: join(base, 'uuid') });
    try {
      const d = await conn.define({ text: pausedYaml('u1') });
      const again = await conn.define({ text: pausedYaml('u1', '96M') });
      assert.equal(again, d, 'the same handle');
      assert.equal(again.uuid, d.uuid);
      assert.equal(again.spec.memoryMiB, 96);
      await assert.rejects(conn.define({ text: `${pausedYaml('u1')}\nuuid: 11111111-2222-3333-4444-555555555555` }), isCode('AlreadyExists', /u1/));
      await assert.rejects(conn.define({ text: `${pausedYaml('u2')}\nuuid: ${d.uuid}` }), isCode('AlreadyExists', /already used by domain 'u1'/));
      const given = await conn.define({ text: `${pausedYaml('u3')}\nuuid: AAAAAAAA-2222-3333-4444-555555555555` });
      assert.equal(given.uuid, 'aaaaaaaa-2222-3333-4444-555555555555');
    } finally {
      await conn.close();
    }
  });

  it('undefine removes the domain and its files; unknown names are NotFound', async () => {
    const root = join(base, 'undef');
    const conn = await openEmbedded({ root });
    try {
      const d = await conn.define({ text: pausedYaml('gone') });
      const events: string[] = [];
      conn.on('event', (e: LifecycleEvent) => events.push(`${e.type}:${e.domain}`));
      await conn.undefine('gone');
      assert.deepEqual(events, ['undefined:gone']);
      assert.throws(() => conn.lookup('gone'), isCode('NotFound', /gone/));
      await assert.rejects(conn.undefine('gone'), isCode('NotFound'));
      await assert.rejects(d.start(), isCode('NotFound', /undefined/));
      assert.deepEqual(await readdir(join(root, 'domains')), []);
    } finally {
      await conn.close();
    }
  });

  it('an invalid definition is refused with every problem and nothing is stored', async () => {
    const root = join(base, 'invalid');
    const conn = await openEmbedded({ root });
    try {
      await assert.rejects(conn.define({ text: 'name: bad\nmemory: lots\ncpu: { vcpus: 0 }\n' }), (e: unknown) => e instanceof ConfigError && e.problems.length >= 2);
      assert.deepEqual(await readdir(join(root, 'domains')), []);
    } finally {
      await conn.close();
    }
  });

  it('a spec is checked like a definition and stored as the native YAML it was checked through', async () => {
    const root = join(base, 'spec');
    const conn = await openEmbedded({ root });
    try {
      const src = await conn.define({ text: pausedYaml('from-text') });
      const d = await conn.define({ spec: { ...src.spec, name: 'from-spec', uuid: undefined as never } });
      const def = await d.definition();
      assert.equal(def.format, 'vmkit-yaml');
      assert.match(def.text, /^name: from-spec$/m);
      assert.notEqual(d.uuid, src.uuid);
      assert.deepEqual({ ...d.spec, name: 'x', uuid: 'u' }, { ...src.spec, name: 'x', uuid: 'u' });
      // Refused, with nothing stored: a value the format's rules refuse (at its field path), an inconsistent
      // spec (a field vmkit derives), and something that is not a spec.
      const before = (await readdir(join(root, 'domains'))).sort();
      const badBus = { ...src.spec, name: 'bad-bus', disks: [{ id: 'disk0', path: '/i', format: 'raw', bus: 'floppy', media: 'disk', readonly: false }] };
      await assert.rejects(conn.define({ spec: badBus as never }), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.problems[0]?.path, 'disks[0].bus');
        assert.equal(e.problems[0]?.line, undefined, 'no position in generated text');
        return true;
      });
      const badId = { ...src.spec, name: 'bad-id', disks: [{ id: 'mydisk', path: '/i', format: 'raw', bus: 'virtio', media: 'disk', readonly: false }] };
      await assert.rejects(conn.define({ spec: badId as never }), isCode('InvalidArgument', /inconsistent at disks\[0\]\.id: it has "mydisk", but its own definition gives "disk0"/));
      const cdrom = { ...src.spec, name: 'cd-virtio', disks: [{ id: 'disk0', path: '/i.iso', format: 'raw', bus: 'virtio', media: 'cdrom', readonly: true }] };
      await assert.rejects(conn.define({ spec: cdrom as never }), (e: unknown) => e instanceof ConfigError && /cdrom cannot be on the virtio bus/.test(e.message));
      await assert.rejects(conn.define({ spec: { name: 'half' } as never }), isCode('InvalidArgument', /not a complete DomainSpec/));
      await assert.rejects(conn.define({ spec: 42 as never }), isCode('InvalidArgument', /must be a DomainSpec object/));
      assert.deepEqual((await readdir(join(root, 'domains'))).sort(), before);
      // With its source text: that text is what is stored (dump and positions of problems found at start).
      const text = pausedYaml('with-source');
      const parsed = (await conn.define({ text })).spec;
      await conn.undefine('with-source');
      const s = await conn.define({ spec: parsed, source: { text, file: '/defs/with-source.yaml' } });
      assert.deepEqual(await s.definition(), { format: 'vmkit-yaml', text, file: '/defs/with-source.yaml' });
    } finally {
      await conn.close();
    }
  });

  it('one driver per root: a second open is refused while the first is open, and a lock left by a dead process is taken over', async () => {
    const root = join(base, 'lock');
    const a = await openEmbedded({ root });
    await assert.rejects(openEmbedded({ root }), isCode('InvalidState', /already open in this process/));
    const other = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const { openEmbedded } = await import(${JSON.stringify(new URL('../../src/index.js', import.meta.url).href)});
      try { await openEmbedded({ root: ${JSON.stringify(root)} }); process.exit(0); } catch (e) { console.log(e.code, e.message); process.exit(3); }`], { encoding: 'utf8' });
    assert.equal(other.status, 3);
    assert.match(other.stdout, /InvalidState Root .* is in use by process \d+/);
    await a.close();
    const dead = spawnSync('true').pid ?? 1;
    await writeFile(join(root, 'lock'), `${dead} 12345\n`);
    const b = await openEmbedded({ root });
    assert.equal((await readFile(join(root, 'lock'), 'utf8')).split(' ')[0], String(process.pid));
    await b.close();
  });

  it('opening a root sweeps what interrupted writes and removals left behind', async () => {
    const root = join(base, 'sweep');
    const a = await openEmbedded({ root });
    await a.define({ text: pausedYaml('keep') });
    await a.close();
    await writeFile(join(root, 'domains', '.tmp-keep.json.abc'), '{"torn');
    await writeFile(join(root, 'status', '.tmp-keep.json.abc'), '{"torn');
    await writeFile(join(root, 'status', 'removed-half-way.json'), '{}\n');
    await mkdir(join(root, 'domains', '.trash-old.1234'));
    await mkdir(join(root, 'domains', 'never-written'));
    const b = await openEmbedded({ root });
    try {
      assert.deepEqual(b.list().map((d) => d.name), ['keep']);
      assert.deepEqual((await readdir(join(root, 'domains'))).sort(), ['keep.json']);
      assert.deepEqual(await readdir(join(root, 'status')), []);
    } finally {
      await b.close();
    }
  });

  it('concurrent define and undefine of the same domain serialize: errors are only NotFound/InvalidState, and memory agrees with disk', async () => {
    const root = join(base, 'race');
    const conn = await openEmbedded({ root });
    const unexpected: unknown[] = [];
    const ops = Array.from({ length: 120 }, (_, i) =>
      (i % 3 === 0 ? conn.undefine('same') : conn.define({ text: pausedYaml('same', `${64 + (i % 5)}M`) })).catch((e: unknown) => {
        if (!(e instanceof VmkitError && (e.code === 'NotFound' || e.code === 'InvalidState'))) unexpected.push(e);
      }),
    );
    await Promise.all(ops);
    assert.deepEqual(unexpected, []);
    const inMemory = conn.list().map((d) => `${d.name}:${d.uuid}:${d.spec.memoryMiB}`);
    await conn.close();
    const again = await openEmbedded({ root });
    try {
      assert.deepEqual(again.list().map((d) => `${d.name}:${d.uuid}:${d.spec.memoryMiB}`), inMemory);
    } finally {
      await again.close();
    }
  });

  it('a root in the layout of earlier versions (a directory per domain) is moved to one file per domain, status included', async () => {
    const root = join(base, 'legacy');
    const a = await openEmbedded({ root });
    const d = await a.define({ text: pausedYaml('old1') }, { autostart: true });
    await a.define({ text: pausedYaml('old2') });
    await a.close();
    // Rewrite the root as vmkit 0.x left it: domains/<name>/domain.json (+ status.json).
    for (const name of ['old1', 'old2']) {
      const text = await readFile(join(root, 'domains', `${name}.json`), 'utf8');
      await rm(join(root, 'domains', `${name}.json`));
      await mkdir(join(root, 'domains', name));
      await writeFile(join(root, 'domains', name, 'domain.json'), text);
    }
    const lastStop = { reason: 'destroyed', time: '2026-01-01T00:00:00.000Z' };
    await writeFile(join(root, 'domains', 'old1', 'status.json'), `${JSON.stringify({ lastStop })}\n`);
    // old2 was half moved by an interrupted open: its file is there and so is its directory.
    await writeFile(join(root, 'domains', 'old2.json'), await readFile(join(root, 'domains', 'old2', 'domain.json'), 'utf8'));
    const b = await openEmbedded({ root });
    try {
      assert.deepEqual(b.list().map((x) => x.name), ['old1', 'old2']);
      assert.equal(b.lookup('old1').uuid, d.uuid);
      assert.equal(b.lookup('old1').record.autostart, true);
      assert.deepEqual(b.lookup('old1').lastStop, lastStop);
      assert.deepEqual((await readdir(join(root, 'domains'))).sort(), ['old1.json', 'old2.json']);
      assert.deepEqual(await readdir(join(root, 'status')), ['old1.json']);
    } finally {
      await b.close();
    }
  });

  it('defining 64 domains with 16 disks each forks no process', async () => {
    const conn = await openEmbedded({ root: join(base, 'nofork') });
    try {
      const { spawns } = await countSpawns(() => Promise.all(Array.from({ length: 64 }, (_, i) => conn.define({ text: manyDisksYaml(`many${i}`) }))));
      assert.deepEqual(spawns, []);
      assert.equal(conn.list().length, 64);
      assert.equal(conn.lookup('many7').spec.disks.length, 16);
    } finally {
      await conn.close();
    }
  });
});
