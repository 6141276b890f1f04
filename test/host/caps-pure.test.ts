import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VmkitError } from '../../src/errors.js';
import { capsFromReplies, closestNames, guestAccels, probeAccelOf, definitionLocator, displayPath, isQemuCaps, pointerOf, PROBE_COMMANDS, probeArgv } from '../../src/host/caps/index.js';
import { recordedCaps } from './helpers.js';

/** Replies shaped like QEMU 7.2's, small: the schema's type names are masked numbers as in a real build. */
function replies(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: { qemu: { major: 7, minor: 2, micro: 22 }, package: ' Debian 1:7.2 ' },
    target: { arch: 'x86_64' },
    kvm: { present: true, enabled: false },
    machines: [
      { name: 'pc-q35-7.2', alias: 'q35', 'cpu-max': 288, deprecated: false, 'default-cpu-type': 'qemu64-x86_64-cpu' },
      { name: 'pc-i440fx-7.2', alias: 'pc', 'is-default': true, 'cpu-max': 255, deprecated: false },
      { name: 'pc-i440fx-1.4', 'cpu-max': 255, deprecated: true },
    ],
    cpus: [
      { name: 'max', 'unavailable-features': [], deprecated: false },
      { name: 'Skylake-Client', 'alias-of': 'Skylake-Client-v1', 'unavailable-features': ['avx512f'], deprecated: false },
    ],
    devices: [{ name: 'virtio-blk-pci' }, { name: 'virtio-blk-device' }, { name: 'scsi-hd' }, { name: 'hda-duplex' }, { name: 'sysbus-ohci' }],
    'bus:pci': [{ name: 'virtio-blk-pci' }],
    'bus:virtio': [{ name: 'virtio-blk-device' }],
    'bus:scsi': [{ name: 'scsi-hd' }],
    'bus:ide': [],
    'bus:usb': [],
    'bus:isa': [],
    // virtio-blk-pci is both a PCI device and (here, made up) a sysbus device: PCI wins.
    'bus:sysbus': [{ name: 'sysbus-ohci' }, { name: 'virtio-blk-pci' }],
    'bus:cpu': [],
    accels: [{ name: 'tcg-accel' }, { name: 'kvm-accel' }, { name: 'accel' }],
    objects: [{ name: 'iothread' }, { name: 'memory-backend-file' }],
    chardevs: [{ name: 'socket' }, { name: 'pty' }],
    schema: [
      { name: 'netdev_add', 'meta-type': 'command', 'arg-type': '100', 'ret-type': '0' },
      { name: '100', 'meta-type': 'object', members: [{ name: 'id', type: 'str' }, { name: 'type', type: '347' }] },
      { name: '347', 'meta-type': 'enum', values: ['none', 'nic', 'user', 'tap', 'vhost-user'] },
      { name: '348', 'meta-type': 'enum', values: ['decoy', 'tap'] },
    ],
    ...over,
  };
}

test('capsFromReplies reads versions, machines with aliases and default, CPU usability, device buses, accelerators and backends', () => {
  const caps = capsFromReplies('/usr/bin/qemu-system-x86_64', replies(), { at: '2026-01-01T00:00:00Z', ms: 12 });
  assert.deepEqual(caps.version, { major: 7, minor: 2, micro: 22, package: 'Debian 1:7.2' });
  assert.deepEqual(caps.kvm, { present: true, enabled: false });
  assert.equal(caps.probeAccel, 'tcg');
  assert.deepEqual(caps.accels, ['kvm', 'tcg']);
  assert.equal(caps.defaultMachine, 'pc-i440fx-7.2');
  assert.deepEqual(caps.machines.map((m) => [m.name, m.alias ?? '', m.deprecated]), [
    ['pc-i440fx-1.4', '', true],
    ['pc-i440fx-7.2', 'pc', false],
    ['pc-q35-7.2', 'q35', false],
  ]);
  assert.deepEqual(caps.cpuModels, [
    { name: 'max', usable: true, deprecated: false },
    { name: 'Skylake-Client', aliasOf: 'Skylake-Client-v1', usable: false, deprecated: false },
  ]);
  assert.deepEqual(Object.fromEntries(caps.devices.map((d) => [d.name, d.bus])), {
    'hda-duplex': 'other',
    'scsi-hd': 'scsi',
    'sysbus-ohci': 'sysbus',
    'virtio-blk-device': 'virtio',
    'virtio-blk-pci': 'pci',
  });
  assert.deepEqual(caps.netdevBackends, ['tap', 'user', 'vhost-user']);
  assert.deepEqual(caps.objects, ['iothread', 'memory-backend-file']);
  assert.deepEqual(caps.chardevBackends, ['pty', 'socket']);
  assert.ok(isQemuCaps(caps));
});

test('the probe accelerator is KVM when enabled, else TCG when built in, else qtest (a KVM-only binary without KVM): then no accelerator runs guests', () => {
  const kvmOnly = replies({ accels: [{ name: 'kvm-accel' }, { name: 'qtest-accel' }, { name: 'accel' }] });
  const without = capsFromReplies('/usr/bin/qemu-system-x86_64-microvm', kvmOnly, { at: '', ms: 0 });
  assert.deepEqual(without.accels, ['kvm', 'qtest']);
  assert.equal(without.probeAccel, 'qtest');
  assert.deepEqual(guestAccels(without), []);
  const withKvm = capsFromReplies('/usr/bin/qemu-system-x86_64-microvm', { ...kvmOnly, kvm: { present: true, enabled: true } }, { at: '', ms: 0 });
  assert.equal(withKvm.probeAccel, 'kvm');
  assert.deepEqual(guestAccels(withKvm), ['kvm']);
  const full = capsFromReplies('/q', replies(), { at: '', ms: 0 });
  assert.equal(full.probeAccel, 'tcg');
  assert.deepEqual(guestAccels(full), ['tcg']);
  assert.equal(probeAccelOf(true, ['kvm', 'tcg']), 'kvm');
  assert.equal(probeAccelOf(false, []), 'none');
});

test('capsFromReplies names the command whose reply has the wrong shape', () => {
  assert.throws(() => capsFromReplies('/q', replies({ machines: { not: 'a list' } }), { at: '', ms: 0 }), (e: unknown) => e instanceof VmkitError && e.code === 'QemuFailed' && /query-machines/.test(e.message));
  assert.throws(() => capsFromReplies('/q', replies({ schema: [] }), { at: '', ms: 0 }), /query-qmp-schema \(netdev_add type enum\)/);
});

test('the probe sends every command in one session: one qom-list-types per bus, no per-device queries', () => {
  const cmds = PROBE_COMMANDS.map((c) => c.command);
  assert.equal(cmds.filter((c) => c === 'device-list-properties').length, 0);
  assert.deepEqual([...new Set(cmds)].sort(), ['qom-list-types', 'query-chardev-backends', 'query-cpu-definitions', 'query-kvm', 'query-machines', 'query-qmp-schema', 'query-target', 'query-version']);
  assert.ok(PROBE_COMMANDS.length <= 20);
});

test('the probe argv starts QEMU paused without a guest and escapes commas in the socket path', () => {
  const argv = probeArgv('/tmp/a,b/qmp.sock');
  assert.deepEqual(argv.slice(0, 3), ['-S', '-machine', 'none,accel=kvm:tcg:qtest']);
  assert.ok(argv.includes('-nodefaults') && argv.includes('-no-user-config'));
  assert.ok(argv.includes('socket,id=vmkit-probe,path=/tmp/a,,b/qmp.sock,server=off'));
});

test('the recorded capabilities fixture passes the cache-file shape check, and a changed field fails it', () => {
  assert.ok(isQemuCaps(recordedCaps()));
  assert.equal(isQemuCaps({ ...recordedCaps(), devices: [{ name: 1, bus: 'pci' }] }), false);
  assert.equal(isQemuCaps({ ...recordedCaps(), formatVersion: 0 }), false);
});

test('closestNames: typos, swaps, missing suffixes and containment, best first; nothing when nothing is close', () => {
  const machines = ['q35', 'pc-q35-7.2', 'pc', 'pc-i440fx-7.2', 'microvm', 'isapc'];
  assert.deepEqual(closestNames('q36', machines), ['q35']);
  assert.deepEqual(closestNames('mircovm', machines), ['microvm']);
  assert.deepEqual(closestNames('Q35', machines), ['q35', 'pc-q35-7.2'], 'case differs: the alias first, then what contains it');
  assert.deepEqual(closestNames('Skylake', ['Skylake-Client', 'Skylake-Server', 'Skylake-Client-v1', 'Haswell']).slice(0, 2), ['Skylake-Client', 'Skylake-Server']);
  assert.deepEqual(closestNames('virtio-blk-pcii', ['virtio-blk-pci', 'virtio-9p-pci', 'virtio-gpu-pci']), ['virtio-blk-pci']);
  assert.deepEqual(closestNames('zzzzzz', machines), []);
  assert.deepEqual(closestNames('', machines), []);
});

test('definitionLocator finds values, falls back to the closest written ancestor, and knows nothing of defaults at the root', () => {
  const text = 'name: a\nmachine: q35\ncpu:\n  vcpus: 2\ndisks:\n  - path: /x\n    format: raw\n';
  const at = definitionLocator(text, 'f.yaml');
  assert.deepEqual(at('/disks/0/format'), { file: 'f.yaml', line: 7, col: 13 });
  assert.deepEqual(at('/machine/type'), { file: 'f.yaml', line: 2, col: 10 }, 'machine written as a string');
  assert.deepEqual(at('/cpu/model'), { file: 'f.yaml', line: 4, col: 3 }, 'cpu written without a model');
  assert.deepEqual(at('/disks/5/bus'), { file: 'f.yaml', line: 6, col: 3 }, 'unknown index: the list');
  assert.equal(at('/memory_backing/hugepages'), undefined);
  assert.equal(definitionLocator('a: [', 'bad.yaml')('/a'), undefined);
});

test('displayPath and pointerOf convert between `disks[0].bus` and `/disks/0/bus`', () => {
  for (const [pointer, path] of [
    ['/disks/0/bus', 'disks[0].bus'],
    ['/qemu_args/3', 'qemu_args[3]'],
    ['/machine/type', 'machine.type'],
    ['', ''],
  ] as const) {
    assert.equal(displayPath(pointer), path);
    assert.equal(pointerOf(path), pointer);
  }
});
