import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_LAUNCHER_CONFIG_DIR, loadDefinitionFile, locateDefinition } from '../../src/config/index.js';
import { ConfigError, isVmkitError } from '../../src/errors.js';
import { FIXTURES } from './helpers.js';

function existing(...paths: string[]): (p: string) => boolean {
  const set = new Set(paths);
  return (p) => set.has(p);
}

test('a path argument is used as is, relative to cwd', () => {
  assert.equal(locateDefinition('vms/a.yaml', { env: {}, cwd: '/home/u', exists: existing('/home/u/vms/a.yaml') }), '/home/u/vms/a.yaml');
  assert.equal(locateDefinition('/etc/a.xml', { env: {}, cwd: '/', exists: existing('/etc/a.xml') }), '/etc/a.xml');
  assert.equal(locateDefinition('a.json', { env: {}, cwd: '/w', exists: existing('/w/a.json') }), '/w/a.json');
});

test('a bare name is tried as ./name first, then as $QEMU_LAUNCHER_CONFIG_DIR/name.yml', () => {
  const env = { QEMU_LAUNCHER_CONFIG_DIR: '/etc/my-vms' };
  assert.equal(locateDefinition('bar', { env, cwd: '/w', exists: existing('/w/bar', '/etc/my-vms/bar.yml') }), '/w/bar');
  assert.equal(locateDefinition('bar', { env, cwd: '/w', exists: existing('/etc/my-vms/bar.yml') }), '/etc/my-vms/bar.yml');
  assert.equal(
    locateDefinition('foo', { env: {}, cwd: '/w', exists: existing(`${DEFAULT_LAUNCHER_CONFIG_DIR}/foo.yml`) }),
    '/usr/local/etc/qemu-launcher/foo.yml',
    'the default configuration directory is qemu-launcher\'s',
  );
  assert.equal(locateDefinition('foo.yml', { env, cwd: '/w', exists: existing('/etc/my-vms/foo.yml') }), '/etc/my-vms/foo.yml');
});

test('a definition that is nowhere is NotFound, naming every place tried', () => {
  const env = { QEMU_LAUNCHER_CONFIG_DIR: '/etc/my-vms' };
  assert.throws(
    () => locateDefinition('ghost', { env, cwd: '/w', exists: () => false }),
    (e: unknown) => {
      assert.ok(isVmkitError(e));
      assert.equal(e.code, 'NotFound');
      assert.deepEqual(e.details.tried, ['/w/ghost', '/etc/my-vms/ghost.yml']);
      assert.match(e.message, /tried \/w\/ghost, \/etc\/my-vms\/ghost\.yml/);
      return true;
    },
  );
  assert.throws(
    () => locateDefinition('sub/ghost.yaml', { env, cwd: '/w', exists: () => false }),
    (e: unknown) => isVmkitError(e) && e.code === 'NotFound' && (e.details.tried as string[]).length === 1,
  );
  assert.throws(() => locateDefinition('', { env, cwd: '/w', exists: () => true }), (e: unknown) => isVmkitError(e) && e.code === 'InvalidArgument');
});

const tmp = mkdtempSync(join(tmpdir(), 'vmkit-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('loadDefinitionFile() finds a bare name in QEMU_LAUNCHER_CONFIG_DIR and parses it', async () => {
  const dir = join(tmp, 'launcher-dir');
  mkdirSync(dir);
  copyFileSync(join(FIXTURES, 'launcher-readme-fixed.yml'), join(dir, 'my-vm.yml'));
  const spec = await loadDefinitionFile('my-vm', { env: { QEMU_LAUNCHER_CONFIG_DIR: dir }, cwd: tmp });
  assert.equal(spec.source.format, 'qemu-launcher');
  assert.equal(spec.source.file, join(dir, 'my-vm.yml'));
  assert.equal(spec.name, 'my-vm');
  assert.equal(spec.rawOptions?.length, 9);
});

test('loadDefinitionFile() resolves relative paths against the file\'s directory', async () => {
  const dir = join(tmp, 'native');
  mkdirSync(dir);
  writeFileSync(join(dir, 'vm.yaml'), 'name: n\ndisks: [{path: disk.qcow2, format: qcow2}]\n');
  const spec = await loadDefinitionFile('native/vm.yaml', { env: {}, cwd: tmp });
  assert.equal(spec.disks[0]?.path, join(dir, 'disk.qcow2'));
});

test('loadDefinitionFile() rejects missing files and invalid definitions with typed errors', async () => {
  await assert.rejects(loadDefinitionFile('nothing-here', { env: { QEMU_LAUNCHER_CONFIG_DIR: tmp }, cwd: tmp }), (e: unknown) => isVmkitError(e) && e.code === 'NotFound');
  writeFileSync(join(tmp, 'bad.yaml'), 'name: b\nmemroy: 1G\n');
  await assert.rejects(loadDefinitionFile(join(tmp, 'bad.yaml')), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.problems[0]?.file, join(tmp, 'bad.yaml'));
    assert.equal(e.problems[0]?.line, 2);
    return true;
  });
  mkdirSync(join(tmp, 'adir.yaml'));
  await assert.rejects(loadDefinitionFile(join(tmp, 'adir.yaml')), (e: unknown) => isVmkitError(e) && e.code === 'NotFound', 'a directory is not a definition');
});
