import assert from 'node:assert/strict';
import { readdir, readFile, rename, truncate, utimes, writeFile, copyFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { VmkitError } from '../../src/errors.js';
import { cacheFileName, CapsCache, CAPS_FORMAT_VERSION, connectionCacheDir, sharedCacheDir } from '../../src/host/caps/index.js';
import { countingProbe, fakeBinary, fakeFacts, tempDir } from './helpers.js';

async function setup(t: import('node:test').TestContext, probeOpts: Parameters<typeof countingProbe>[0] = {}) {
  const dir = await tempDir(t);
  const binary = await fakeBinary(dir);
  const cacheDir = join(dir, 'cache');
  const state = { kernel: '6.1.0-test', kvm: true };
  const probe = countingProbe(probeOpts);
  const cache = new CapsCache({ cacheDir, facts: fakeFacts(state), probe });
  return { dir, binary, cacheDir, state, probe, cache, file: join(cacheDir, cacheFileName(binary)) };
}

test('the first look-up probes and writes the cache file; the next one answers from memory', async (t) => {
  const s = await setup(t);
  const a = await s.cache.lookup(s.binary);
  const b = await s.cache.lookup(s.binary);
  assert.equal(s.probe.calls.length, 1);
  assert.equal(a, b);
  assert.equal(a.binary, s.binary);
  assert.deepEqual(s.cache.stats, { memoryHits: 1, fileHits: 0, probes: 1, refused: 0 });
  const onDisk = JSON.parse(await readFile(s.file, 'utf8')) as { key: Record<string, unknown>; caps: { binary: string } };
  assert.equal(onDisk.caps.binary, s.binary);
  assert.equal(onDisk.key.kernel, '6.1.0-test');
  assert.equal(onDisk.key.format, CAPS_FORMAT_VERSION);
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.machines), 'shared caps are frozen');
});

test('another cache on the same directory (a new process) reads the file instead of probing', async (t) => {
  const s = await setup(t);
  await s.cache.lookup(s.binary);
  const probe2 = countingProbe();
  const other = new CapsCache({ cacheDir: s.cacheDir, facts: fakeFacts(s.state), probe: probe2 });
  const caps = await other.lookup(s.binary);
  assert.equal(probe2.calls.length, 0);
  assert.equal(other.stats.fileHits, 1);
  assert.equal(caps.version.major, 7);
});

test('touching the binary (new mtime/ctime) makes the entry stale and re-probes', async (t) => {
  const s = await setup(t);
  await s.cache.lookup(s.binary);
  await utimes(s.binary, new Date(), new Date(Date.now() + 5000));
  await s.cache.lookup(s.binary);
  assert.equal(s.probe.calls.length, 2);
  // The replaced entry is now valid for a fresh cache.
  const probe2 = countingProbe();
  await new CapsCache({ cacheDir: s.cacheDir, facts: fakeFacts(s.state), probe: probe2 }).lookup(s.binary);
  assert.equal(probe2.calls.length, 0);
});

test('each stat field of the binary alone (size, mtime, ctime, inode, device) invalidates the entry', async (t) => {
  const s = await setup(t);
  const st = { size: 100n, mtimeNs: 1n, ctimeNs: 2n, ino: 3n, dev: 4n };
  const facts = { kernelRelease: () => 'k', kvmUsable: async () => true, stat: async () => ({ ...st }) };
  const cache = new CapsCache({ cacheDir: s.cacheDir, facts, probe: s.probe });
  await cache.lookup(s.binary);
  await cache.lookup(s.binary);
  assert.equal(s.probe.calls.length, 1);
  for (const field of ['size', 'mtimeNs', 'ctimeNs', 'ino', 'dev'] as const) {
    st[field] += 1n;
    await cache.lookup(s.binary);
    await cache.lookup(s.binary);
    assert.equal(s.probe.calls.length, 2 + ['size', 'mtimeNs', 'ctimeNs', 'ino', 'dev'].indexOf(field), `${field} changed: one new probe`);
  }
});

test('a binary replaced by rename (a package upgrade: new inode) re-probes', async (t) => {
  const s = await setup(t);
  await s.cache.lookup(s.binary);
  const next = join(s.dir, 'new-binary');
  await copyFile(s.binary, next);
  await chmod(next, 0o755);
  await rename(next, s.binary);
  await s.cache.lookup(s.binary);
  assert.equal(s.probe.calls.length, 2);
});

test('a different kernel release (injected host facts) re-probes', async (t) => {
  const s = await setup(t);
  await s.cache.lookup(s.binary);
  s.state.kernel = '6.12.0-test';
  await s.cache.lookup(s.binary);
  assert.equal(s.probe.calls.length, 2);
  // Back to the first kernel: the file now holds the 6.12 entry, so this is stale again.
  s.state.kernel = '6.1.0-test';
  await s.cache.lookup(s.binary);
  assert.equal(s.probe.calls.length, 3);
});

test('/dev/kvm becoming usable (or not) re-probes', async (t) => {
  const s = await setup(t);
  await s.cache.lookup(s.binary);
  s.state.kvm = false;
  await s.cache.lookup(s.binary);
  assert.equal(s.probe.calls.length, 2);
});

test('an entry written by another capability format version is re-probed', async (t) => {
  const s = await setup(t);
  await s.cache.lookup(s.binary);
  const data = JSON.parse(await readFile(s.file, 'utf8')) as { key: { format: number }; caps: { formatVersion: number } };
  data.key.format = CAPS_FORMAT_VERSION + 1;
  await writeFile(s.file, JSON.stringify(data));
  const probe2 = countingProbe();
  const fresh = new CapsCache({ cacheDir: s.cacheDir, facts: fakeFacts(s.state), probe: probe2 });
  await fresh.lookup(s.binary);
  assert.equal(probe2.calls.length, 1);
  assert.equal(fresh.stats.refused, 1);
});

test('a corrupt cache file is never trusted: truncated, not JSON, wrong shape or another binary all re-probe', async (t) => {
  const s = await setup(t);
  await s.cache.lookup(s.binary);
  const good = await readFile(s.file, 'utf8');
  const parsed = JSON.parse(good) as { key: unknown; caps: Record<string, unknown> };
  const variants: [string, string][] = [
    ['truncated', good.slice(0, good.length / 2)],
    ['not JSON', '\0\0garbage'],
    ['empty', ''],
    ['caps of the wrong shape', JSON.stringify({ key: parsed.key, caps: { ...parsed.caps, machines: 'q35' } })],
    ['caps of another binary', JSON.stringify({ key: parsed.key, caps: { ...parsed.caps, binary: '/usr/bin/other' } })],
    ['no key', JSON.stringify({ caps: parsed.caps })],
  ];
  for (const [what, text] of variants) {
    await writeFile(s.file, text);
    const probe = countingProbe();
    const fresh = new CapsCache({ cacheDir: s.cacheDir, facts: fakeFacts(s.state), probe });
    const caps = await fresh.lookup(s.binary);
    assert.equal(probe.calls.length, 1, `${what}: re-probed`);
    assert.equal(caps.binary, s.binary);
    assert.equal(await readFile(s.file, 'utf8').then((x) => JSON.parse(x).caps.binary), s.binary, `${what}: replaced by a good entry`);
  }
});

test('two concurrent look-ups of a cold cache share one probe', async (t) => {
  const s = await setup(t, { delayMs: 50 });
  const [a, b, c] = await Promise.all([s.cache.lookup(s.binary), s.cache.lookup(s.binary), s.cache.lookup(s.binary)]);
  assert.equal(s.probe.calls.length, 1);
  assert.equal(a, b);
  assert.equal(b, c);
});

test("one caller's timeout does not fail the shared probe for the others", async (t) => {
  const s = await setup(t, { delayMs: 150 });
  const impatient = s.cache.lookup(s.binary, { timeoutMs: 10 });
  const patient = s.cache.lookup(s.binary);
  await assert.rejects(impatient, (e: unknown) => e instanceof VmkitError && e.code === 'Timeout');
  const caps = await patient;
  assert.equal(caps.binary, s.binary);
  assert.equal(s.probe.calls.length, 1);
});

test('an aborted look-up rejects with Aborted', async (t) => {
  const s = await setup(t, { delayMs: 100 });
  const ac = new AbortController();
  const p = s.cache.lookup(s.binary, { signal: ac.signal });
  ac.abort();
  await assert.rejects(p, (e: unknown) => e instanceof VmkitError && e.code === 'Aborted');
});

test('a failed probe is not cached: the next look-up probes again', async (t) => {
  let fail = true;
  const s = await setup(t, { fail: () => (fail ? new VmkitError('QemuFailed', 'boom') : undefined) });
  await assert.rejects(s.cache.lookup(s.binary), (e: unknown) => e instanceof VmkitError && e.code === 'QemuFailed');
  fail = false;
  await s.cache.lookup(s.binary);
  assert.equal(s.probe.calls.length, 2);
});

test('a missing binary is NotFound, naming it', async (t) => {
  const s = await setup(t);
  await assert.rejects(s.cache.lookup(join(s.dir, 'nope')), (e: unknown) => e instanceof VmkitError && e.code === 'NotFound' && e.message.includes('nope'));
  await assert.rejects(s.cache.lookup('qemu-system-nonexistent-arch'), (e: unknown) => e instanceof VmkitError && e.code === 'NotFound' && /not found on PATH/.test(e.message));
  assert.equal(s.probe.calls.length, 0);
});

test('a bare name is looked up on PATH in order, and shares the entry of its absolute path', async (t) => {
  const s = await setup(t);
  const first = join(s.dir, 'first');
  await import('node:fs/promises').then((fs) => fs.mkdir(first));
  const shadow = await fakeBinary(first);
  const cache = new CapsCache({ cacheDir: s.cacheDir, facts: fakeFacts(s.state), probe: s.probe, env: { PATH: `/nonexistent:${first}:${s.dir}` } });
  const byName = await cache.lookup('qemu-system-x86_64');
  assert.equal(byName.binary, shadow);
  await cache.lookup(shadow);
  assert.deepEqual(s.probe.calls, [shadow]);
});

test('writing leaves only the entry in the cache directory (atomic rename, no temp files)', async (t) => {
  const s = await setup(t);
  await Promise.all([s.cache.lookup(s.binary)]);
  s.state.kernel = 'other';
  await s.cache.lookup(s.binary);
  assert.deepEqual(await readdir(s.cacheDir), [cacheFileName(s.binary)]);
});

test('an unwritable cache directory still answers (and probes again next time)', async (t) => {
  const s = await setup(t);
  await writeFile(join(s.dir, 'file-not-dir'), '');
  const cache = new CapsCache({ cacheDir: join(s.dir, 'file-not-dir', 'caps'), facts: fakeFacts(s.state), probe: s.probe });
  const caps = await cache.lookup(s.binary);
  assert.equal(caps.binary, s.binary);
  cache.clearMemory();
  await cache.lookup(s.binary);
  assert.equal(s.probe.calls.length, 2);
});

test('peek() answers only from a valid entry and never probes', async (t) => {
  const s = await setup(t);
  assert.equal(await s.cache.peek(s.binary), undefined);
  await s.cache.lookup(s.binary);
  const fresh = new CapsCache({ cacheDir: s.cacheDir, facts: fakeFacts(s.state), probe: s.probe });
  assert.equal((await fresh.peek(s.binary))?.binary, s.binary);
  await truncate(s.file, 10);
  assert.equal(await fresh.peek(s.binary), undefined);
  assert.equal(s.probe.calls.length, 1);
});

test('cache directories: <root>/cache/caps per connection; VMKIT_CACHE_DIR, XDG_CACHE_HOME, /var/cache for root, ~/.cache otherwise', () => {
  assert.equal(connectionCacheDir('/srv/vmkit'), '/srv/vmkit/cache/caps');
  assert.equal(sharedCacheDir({ VMKIT_CACHE_DIR: '/x/caps', XDG_CACHE_HOME: '/y' }, 1000), '/x/caps');
  assert.equal(sharedCacheDir({ XDG_CACHE_HOME: '/y' }, 1000), '/y/vmkit/caps');
  assert.equal(sharedCacheDir({}, 0), '/var/cache/vmkit/caps');
  assert.equal(sharedCacheDir({ HOME: '/home/ann' }, 1000), '/home/ann/.cache/vmkit/caps');
});
