import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectFormat, parseDefinition, validateDefinition } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

test('detectFormat() tells libvirt XML, qemu-launcher YAML and native YAML apart', () => {
  assert.equal(detectFormat('<domain type="kvm"><name>a</name></domain>'), 'libvirt-xml');
  assert.equal(detectFormat('\n  \n<?xml version="1.0"?>\n<domain/>'), 'libvirt-xml');
  assert.equal(detectFormat('\uFEFF<domain/>'), 'libvirt-xml');
  assert.equal(detectFormat('launcher:\n  binary: q\nqemu:\n- nographic\n'), 'qemu-launcher');
  assert.equal(detectFormat('# comment\nqemu:\n- m: 1G\n'), 'qemu-launcher');
  assert.equal(detectFormat('name: a\nmemory: 1G\n'), 'vmkit-yaml');
  assert.equal(detectFormat('{"name": "a"}'), 'vmkit-yaml');
  assert.equal(detectFormat('launcher:\n  binary: [unterminated\nqemu: x'), 'qemu-launcher', 'broken YAML still detected by its top-level keys');
  assert.equal(detectFormat(''), 'vmkit-yaml');
});

test('libvirt domain XML is parsed by the libvirt reader, which reports what a domain lacks', () => {
  const xml = '<domain type="kvm">\n  <name>a</name>\n</domain>\n';
  assert.throws(
    () => parseDefinition(xml, { file: '/x/a.xml', baseDir: '/x' }),
    (e: unknown) => e instanceof ConfigError && e.problems.some((p) => /<memory> is missing/.test(p.message)) && e.problems.every((p) => p.file === '/x/a.xml'),
  );
  assert.ok(validateDefinition(xml, { baseDir: '/x' }).some((p) => /<os> is missing/.test(p.message)));
});
