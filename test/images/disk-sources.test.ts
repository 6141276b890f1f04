import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportLibvirtXml } from '../../src/config/libvirt/export-domain.js';
import { exportNativeYaml } from '../../src/config/native/export-native.js';
import { parseDefinition, validateDefinition } from '../../src/config/index.js';

const opts = { file: 'vm.yaml', baseDir: '/srv' };

test('native disks name a volume or a template instead of a path; the spec records the names, the path comes at start', () => {
  const spec = parseDefinition('name: web\ndisks:\n  - { volume: web-root }\n  - { volume: data, format: raw }\n  - { image: debian-12, size: 10G }\n  - { path: a.qcow2, format: qcow2 }\n', opts);
  const [v, raw, img, file] = spec.disks;
  assert.deepEqual([v?.path, v?.format, v?.volume], ['', 'qcow2', { name: 'web-root' }]);
  assert.deepEqual([raw?.format, raw?.volume], ['raw', { name: 'data', format: 'raw' }]);
  assert.deepEqual([img?.path, img?.format, img?.image], ['', 'qcow2', { name: 'debian-12', sizeBytes: 10 * 1024 ** 3 }]);
  assert.deepEqual([file?.path, file?.volume, file?.image], ['/srv/a.qcow2', undefined, undefined]);
});

test('such a spec goes through the native exporter and back unchanged; the libvirt exporter refuses it with the reason', () => {
  const spec = parseDefinition('name: web\ndisks:\n  - { volume: web-root }\n  - { volume: data, format: raw, readonly: true }\n  - { image: debian-12, arch: x86_64, size: 10G, bus: scsi }\n', opts);
  assert.deepEqual(parseDefinition(exportNativeYaml(spec), opts).disks, spec.disks);
  assert.throws(() => exportLibvirtXml(spec), /disks\[0\] is vmkit volume 'web-root', which libvirt has no pool for/);
});

test('a disk needs exactly one source; a path needs its format; an image disk is qcow2; size and arch belong to image disks', () => {
  const problems = (text: string): string[] => validateDefinition(text, opts).map((p) => `${p.line ?? '?'}:${p.path}: ${p.message}`);
  const found = problems('name: a\ndisks:\n  - { bus: virtio }\n  - { path: a.img }\n  - { path: b.img, format: raw, volume: b }\n  - { image: t, format: raw }\n  - { volume: v, size: 1G }\n  - { volume: "../x" }\n');
  assert.ok(found.some((p) => /^3:disks\[0\]\.path: Missing required key `path`/.test(p)), found.join('\n'));
  assert.ok(found.some((p) => /^4:disks\[1\]\.format: Missing required key `format`: vmkit never guesses/.test(p)), found.join('\n'));
  assert.ok(found.some((p) => /^5:disks\[2\]\.volume: A disk has one of path, volume or image/.test(p)), found.join('\n'));
  assert.ok(found.some((p) => /^6:disks\[3\]\.format: An image disk is a qcow2 overlay/.test(p)), found.join('\n'));
  assert.ok(found.some((p) => /^7:disks\[4\]\.size: `size` belongs to image disks/.test(p)), found.join('\n'));
  assert.ok(found.some((p) => /^8:disks\[5\]\.volume/.test(p)), found.join('\n'));
});
