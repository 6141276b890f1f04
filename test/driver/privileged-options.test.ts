import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDefinition } from '../../src/config/index.js';
import { domainDir, privilegedOptions } from '../../src/driver/privileged-options.js';
import { Connection, openEmbedded, VmkitError } from '../../src/index.js';

const ROOT = '/var/lib/vmkit';
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const spec = (yaml: string) => parseDefinition(yaml, { baseDir: '/srv', file: '/srv/vm.yaml' });
const pointers = (yaml: string, rules = {}) => privilegedOptions(spec(yaml), { root: ROOT, qemuUser: 'vmkit-qemu', ...rules }).map((p) => p.pointer);

test('a plain definition needs no privilege; each option that runs host programs, reaches host files, changes the account or hands over hardware does', () => {
  assert.deepEqual(pointers('name: a\nmemory: 64M\nserial: console\n'), []);
  assert.deepEqual(pointers('name: a\nemulator: /usr/bin/qemu-system-x86_64\nuser: vmkit-qemu\n'), [], 'the daemon\'s own QEMU account may be named');
  assert.deepEqual(pointers('name: a\nemulator: /tmp/evil/qemu-system-x86_64\n'), ['/emulator']);
  assert.deepEqual(pointers('name: a\nemulator: /bin/sh\n'), ['/emulator']);
  assert.deepEqual(pointers('name: a\nenv: { LD_PRELOAD: /tmp/x.so }\n'), ['/env/LD_PRELOAD']);
  assert.deepEqual(pointers('name: a\nqemu_args: ["-netdev", "tap,id=n,script=/tmp/x"]\n'), ['/qemu_args/0']);
  assert.deepEqual(pointers('name: a\nuser: root\n'), ['/user']);
  assert.deepEqual(pointers('name: a\nuser: 0\ngroup: 0\n'), ['/user', '/group']);
  assert.deepEqual(pointers('name: a\nserial: { type: file, path: /etc/cron.d/x }\n'), ['/serial/path']);
  assert.deepEqual(pointers(`name: a\nserial: { type: file, path: ${domainDir(ROOT, 'a')}/serial.log }\n`), []);
  assert.deepEqual(pointers(`name: a\nserial: { type: unix, path: ${domainDir(ROOT, 'a')}/../b/s.sock }\n`), ['/serial/path'], 'no way out with ..');
  assert.deepEqual(pointers('name: a\nhostdevs: [{ host: "0000:00:07.0" }]\nnics: [{ type: hostdev, host: "0000:03:10.2" }]\n'), ['/hostdevs/0', '/nics/0']);
  assert.deepEqual(pointers('name: a\nemulator: /opt/q/qemu-system-x86_64\n', { emulators: ['/opt/q/qemu-system-x86_64'] }), [], 'a configured allowlist');
  assert.deepEqual(pointers('name: a\ndisks: [{ path: /etc/shadow, format: raw }, { volume: v1 }, { image: debian-12 }]\n'), ['/disks/0/path'], 'disks by name only');
  assert.deepEqual(pointers(`name: a\ndisks: [{ path: ${domainDir(ROOT, 'a')}/d.qcow2, format: qcow2 }, { path: ${domainDir(ROOT, 'b')}/d.qcow2, format: qcow2 }]\n`), ['/disks/1/path'], "the domain's own directory, not another's");
});

test('every qemu-launcher file needs privilege (its qemu: list is raw QEMU arguments), at the launcher\'s own keys', () => {
  const found = privilegedOptions(spec('launcher:\n  binary: qemu-system-x86_64\n  env: { A: b }\nqemu:\n  - name: a\n  - m: 64M\n'), { root: ROOT });
  assert.deepEqual(found.map((p) => p.pointer), ['/launcher/env/A', '/qemu']);
  assert.match(found[1]?.message ?? '', /needs a client with uid 0, or a daemon started with --allow-raw$/);
});

test('define() refuses a non-root caller\'s privileged options with PermissionDenied, each at file:line:col with its rule, and stores nothing; uid 0 and --allow-raw may', async () => {
  const base = await mkdtemp(join(tmpdir(), 'vmkit-priv-'));
  const conn = await openEmbedded({ root: join(base, 'a') });
  const raw = await Connection.open({ root: join(base, 'b'), allowRaw: true });
  try {
    const text = 'name: p\nmemory: 64M\nenv:\n  LD_PRELOAD: /tmp/x.so\nqemu_args: ["-no-hpet"]\n';
    await assert.rejects(conn.define({ text, file: '/defs/p.yaml' }, { caller: { uid: 1000 } }), (e: unknown) => {
      assert.ok(e instanceof VmkitError && e.code === 'PermissionDenied', String(e));
      const problems = e.details.problems as { path: string; line: number; col: number; file: string; message: string }[];
      assert.deepEqual(problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.path}`), ['/defs/p.yaml:4:15 env.LD_PRELOAD', '/defs/p.yaml:5:13 qemu_args[0]']);
      assert.match(e.message, /^Client uid 1000 may not define domain 'p' as written:/);
      assert.ok(problems.every((p) => p.message.endsWith('needs a client with uid 0, or a daemon started with --allow-raw')));
      return true;
    });
    assert.deepEqual(await readdir(join(base, 'a', 'domains')), []);
    // libvirt XML: <qemu:commandline> and <qemu:env>, at their XML element.
    const xml = join(REPO, 'test/fixtures/libvirt/qemu-commandline.xml');
    await assert.rejects(conn.define({ path: xml }, { caller: { uid: 1000 } }), (e: unknown) => {
      assert.ok(e instanceof VmkitError && e.code === 'PermissionDenied', String(e));
      const problems = e.details.problems as { path: string; line?: number; file?: string }[];
      assert.deepEqual(problems.map((p) => [p.file, p.line, p.path.startsWith('/domain/')]), [[xml, 10, true], [xml, 8, true]]);
      return true;
    });
    await conn.define({ text }, { caller: { uid: 0 } });
    await raw.define({ text }, { caller: { uid: 1000 } });
    await conn.define({ text: text.replace('name: p', 'name: q') });
  } finally {
    await conn.close();
    await raw.close();
    await rm(base, { recursive: true, force: true });
  }
});
