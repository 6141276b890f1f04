import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDefinition, validateDefinition } from '../../src/config/index.js';
import { ConfigError, type Problem } from '../../src/errors.js';
import { fixture, where } from './helpers.js';

function problems(text: string): readonly Problem[] {
  return validateDefinition(text, { file: 'vm.yaml', baseDir: '/defs' });
}

function only(text: string): Problem {
  const ps = problems(text);
  assert.equal(ps.length, 1, `expected one problem, got:\n${ps.map((p) => `${where(p)} ${p.message}`).join('\n')}`);
  return ps[0] as Problem;
}

test('every problem of a file is reported at once, each with file:line:col and field path', () => {
  const { text, file, baseDir } = fixture('native-problems.yaml');
  const ps = validateDefinition(text, { file, baseDir });
  assert.ok(ps.every((p) => p.file === file));
  assert.deepEqual(ps.map(where), [
    '1:7 name',
    '2:1 memroy',
    '3:14 cpu.vcpus',
    '4:9 memory',
    '6:5 disks[0].format',
    '8:13 disks[1].format',
    '9:10 disks[1].aio',
    '11:15 disks[1].iothread',
    '11:15 disks[1].iothread',
    '15:10 nics[0].mac',
    '18:16 nics[0].forwards[1].host',
    '19:16 nics[0].forwards[2].host',
    '20:5 nics[1].ifname',
    '23:16 tuning.pinning.vcpus.0',
    '23:27 tuning.pinning.vcpus.8',
    '25:21 tuning.scheduler.vcpus.policy',
    '26:24 tuning.scheduler.emulator.policy',
    '27:16 tuning.scheduler.iothreads',
    '27:42 tuning.scheduler.iothreads.priority',
  ]);
  const byPath = (path: string): Problem[] => ps.filter((p) => p.path === path);
  assert.match(byPath('memroy')[0]?.message ?? '', /Unknown key `memroy`; did you mean `memory`\?/);
  assert.match(byPath('disks[0].format')[0]?.message ?? '', /Missing required key `format`: vmkit never guesses/);
  assert.equal(byPath('disks[0].format')[0]?.expected, '`raw`, `qcow2`, `qcow`, `vmdk`, `vdi`, `vhdx`, `vpc`, `qed` or `luks`');
  assert.equal(byPath('disks[1].format')[0]?.found, 'a string ("qcow3")');
  assert.match(byPath('disks[1].format')[0]?.message ?? '', /did you mean `qcow2`/);
  assert.match(byPath('disks[1].aio')[0]?.message ?? '', /cache none or directsync/);
  assert.match(byPath('cpu.vcpus')[0]?.message ?? '', /6 vCPUs cannot be split into 4 socket/);
  assert.match(byPath('tuning.scheduler.vcpus.policy')[0]?.message ?? '', /sched_setattr runtime\/deadline\/period parameters, which vmkit does not support; use fifo or rr/);
  assert.equal(byPath('nics[0].forwards[2].host')[0]?.expected, 'an integer from 1 to 65535');
  assert.equal(byPath('tuning.pinning.vcpus.8')[0]?.message, 'vCPU 8 does not exist: the guest has 6 vCPU(s), numbered 0-5');
});

test('parseDefinition() throws a ConfigError carrying the same problems validateDefinition() returns', () => {
  const { text, file, baseDir } = fixture('native-problems.yaml');
  assert.throws(
    () => parseDefinition(text, { file, baseDir }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.code, 'InvalidConfig');
      assert.deepEqual(e.problems, validateDefinition(text, { file, baseDir }));
      assert.match(e.message, /^Invalid definition: 19 problems\n/);
      assert.ok(e.message.includes(`${file}:2:1: memroy: Unknown key`));
      return true;
    },
  );
  assert.deepEqual(validateDefinition('name: ok', { baseDir: '/' }), []);
});

test('unknown keys are reported at the key with the closest valid key', () => {
  const p = only('name: a\ndisks:\n  - path: /a\n    format: raw\n    bootIndex: 1\n');
  assert.equal(where(p), '5:5 disks[0].bootIndex');
  assert.equal(p.message, 'Unknown key `bootIndex`; did you mean `boot_index`?');
  assert.equal(p.found, '`bootIndex`');
  assert.match(p.expected ?? '', /^one of `path`, `format`, .*`boot_index`/);
  assert.equal(only('name: a\ntuning: {isolat: true}').message, 'Unknown key `isolat`; did you mean `isolate`?');
  assert.equal(only('name: a\nfrobnicate: 1').message, 'Unknown key `frobnicate`', 'no suggestion when nothing is close');
});

test('duplicate keys are problems at the second occurrence', () => {
  const { text, file, baseDir } = fixture('native-duplicate-key.yaml');
  const ps = validateDefinition(text, { file, baseDir });
  assert.deepEqual(ps.map(where), ['5:1 ']);
  assert.equal(ps[0]?.message, 'Duplicate key `memory`: each key may appear once in a mapping');
});

test('YAML syntax errors are problems with positions', () => {
  const { text, file, baseDir } = fixture('native-syntax-error.yaml');
  const ps = validateDefinition(text, { file, baseDir });
  assert.ok(ps.length >= 1);
  assert.equal(ps[0]?.file, file);
  assert.equal(ps[0]?.line, 3);
  assert.match(ps[0]?.message ?? '', /^YAML: /);
});

test('an empty document and a non-mapping document are problems', () => {
  assert.match(only('# nothing here\n').message, /The definition is empty/);
  const p = only('- name: a\n');
  assert.equal(where(p), '1:1 ');
  assert.equal(p.expected, 'a mapping');
  assert.equal(p.found, 'a list');
  assert.match(only('memory: 1G').message, /Missing required key `name`/);
});

test('types are strict: no coercion of strings to numbers or booleans', () => {
  const p = only('name: a\ncpu: {vcpus: "4"}');
  assert.equal(where(p), '2:14 cpu.vcpus');
  assert.equal(p.message, 'Wrong type');
  assert.equal(p.expected, 'an integer from 1 to 1024');
  assert.equal(p.found, 'a string ("4")');
  assert.equal(only('name: a\nclear_env: "yes"').expected, 'true or false');
});

test('a union value reports the branch the author meant', () => {
  assert.equal(only('name: a\nnics: [{type: tup}]').message, 'Unsupported value; did you mean `tap`?');
  assert.equal(where(only('name: a\nnics: [{type: tup}]')), '2:15 nics[0].type');
  assert.equal(only('name: a\nnics: [{type: tap, ifname: t0, forwards: []}]').message, 'Unknown key `forwards`');
  assert.equal(only('name: a\nboot: {cmdline: quiet}').message, 'Missing required key `kernel`: direct kernel boot needs a kernel image');
  const m = only('name: a\nmachine: [q35]');
  assert.equal(m.message, 'Wrong type');
  assert.equal(m.expected, 'a QEMU machine type like q35, pc or microvm (lowercase) or a mapping');
  assert.match(only('name: a\nmachine: {accel: xen}').expected ?? '', /`kvm`, `tcg` or `auto`/);
  assert.equal(only('name: a\ntuning: {pinning: manual}').expected, '`auto` or a mapping');
});

test('NUMA cells must add up to the memory and cover every vCPU exactly once', () => {
  const ps = problems('name: a\ncpu: {vcpus: 4}\nmemory: 2G\nnuma_cells:\n  - {vcpus: "0-1", memory: 1G}\n  - {vcpus: "1,5", memory: 512M}\n');
  assert.deepEqual(ps.map(where), ['4:1 numa_cells', '4:1 numa_cells', '6:13 numa_cells[1].vcpus', '6:13 numa_cells[1].vcpus']);
  assert.deepEqual(ps.map((p) => p.message), [
    'vCPU(s) 2-3 are in no NUMA cell; every vCPU must be in exactly one cell',
    "The cells' memory adds up to 1536 MiB, but the guest has 2048 MiB",
    'vCPU 1 is already in NUMA cell 0; each vCPU belongs to exactly one cell',
    'vCPU 5 does not exist: the guest has 4 vCPU(s), numbered 0-3',
  ]);
});

test('hugepage sizes must be powers of two that divide the memory', () => {
  assert.equal(only('name: a\nmemory: 1G\nmemory_backing: {hugepages: {page_size: 3M}}').message, 'A hugepage size must be a power of two larger than 4K');
  const p = only('name: a\nmemory: 1536M\nmemory_backing: {hugepages: {page_size: 1G}}');
  assert.equal(p.message, 'Guest memory (1536 MiB) must be a multiple of the hugepage size');
  assert.equal(p.path, 'memory_backing.hugepages.page_size');
});

test('disk rules: cdrom bus, read-only cdroms, boot indices and shared images', () => {
  assert.match(only('name: a\ndisks: [{path: /i, format: raw, media: cdrom, bus: virtio}]').message, /A cdrom cannot be on the virtio bus/);
  assert.match(only('name: a\ndisks: [{path: /i, format: raw, media: cdrom, readonly: false}]').message, /A cdrom is always read-only/);
  assert.match(
    only('name: a\nboot: {kernel: /k}\ndisks: [{path: /i, format: raw, boot_index: 0}]').message,
    /boot_index only applies to firmware boot/,
  );
  assert.equal(only('name: a\nboot: {order: [disk]}\ndisks: [{path: /i, format: raw, boot_index: 0}]').message, 'Use either boot.order or disks[].boot_index, not both');
  const dup = only('name: a\ndisks: [{path: /i, format: raw, boot_index: 1}, {path: /j, format: raw, boot_index: 1}]');
  assert.equal(dup.path, 'disks[1].boot_index');
  const shared = only('name: a\ndisks: [{path: /i, format: raw}, {path: /i, format: raw, readonly: true}]');
  assert.equal(shared.path, 'disks[1].path');
  assert.match(shared.message, /also used by disks\[0\]/);
  assert.deepEqual(problems('name: a\ndisks: [{path: /i, format: raw, readonly: true}, {path: /i, format: raw, readonly: true}]'), []);
  assert.match(only('name: a\ndisks: [{path: /i, format: raw, serial: ABCDEFGHIJKLMNOPQRSTUVWXYZ}]').message, /at most 20 characters/);
  assert.equal(only('name: a\ndisks: [{path: /i, format: raw, aio: native, cache: writeback}]').found, 'cache writeback');
  assert.deepEqual(problems('name: a\ndisks: [{path: /i, format: raw, aio: native, cache: directsync}]'), []);
});

test('NIC rules: MAC syntax and uniqueness, tap names, port ranges', () => {
  const bad = only('name: a\nnics: [{type: user, mac: "52:54:00:12:34"}]');
  assert.equal(bad.expected, 'a MAC address like 52:54:00:12:34:56');
  const dup = only('name: a\nnics: [{type: user, mac: "52:54:00:12:34:56"}, {type: tap, ifname: t0, mac: "52:54:00:12:34:56"}]');
  assert.equal(dup.path, 'nics[1].mac');
  assert.match(only('name: a\nnics: [{type: tap, ifname: t0}, {type: tap, ifname: t0}]').message, /Tap interface t0 is already used by nics\[0\]/);
  assert.equal(only('name: a\nnics: [{type: user, forwards: [{host: 0, guest: 22}]}]').message, 'Out of range');
  assert.equal(only('name: a\nnics: [{type: tap, ifname: "tap/0"}]').path, 'nics[0].ifname');
  assert.deepEqual(problems('name: a\nnics: [{type: user, forwards: [{host: 53, guest: 53}, {host: 53, guest: 53, protocol: udp}]}]'), []);
});

test('tuning rules: unknown iothreads, isolation without pins, priorities', () => {
  const p = only('name: a\niothreads: [disk, net]\ntuning: {pinning: {iothreads: {dsk: 1}}}');
  assert.equal(p.message, 'Unknown iothread `dsk`; did you mean `disk`?');
  assert.equal(where(p), '3:32 tuning.pinning.iothreads.dsk');
  assert.match(only('name: a\ntuning: {isolate: true}').message, /nothing is pinned/);
  assert.equal(only('name: a\ntuning: {scheduler: {vcpus: {policy: fifo, priority: 100}}}').message, 'Out of range');
  assert.equal(only('name: a\ntuning: {scheduler: {vcpus: {policy: idle, priority: 1}}}').message, 'The idle policy takes no priority (only fifo and rr do); remove it');
  assert.match(only('name: a\ndisks: [{path: /i, format: raw, iothread: io0}]').message, /no iothreads are defined/);
  assert.match(only('name: a\niothreads: 1\ndisks: [{path: /i, format: raw, iothread: io0, bus: sata}]').message, /serves virtio disks .* but this disk is on bus sata/);
  assert.deepEqual(validateDefinition('name: a\niothreads: 1\ndisks: [{path: /i, format: raw, iothread: io0, bus: scsi}]', { baseDir: '/' }), [], 'a scsi disk may name the iothread of its controller');
  const two = validateDefinition('name: a\niothreads: 2\ndisks:\n  - {path: /i, format: raw, iothread: io0, bus: scsi}\n  - {path: /j, format: raw, bus: scsi}\n  - {path: /k, format: raw, iothread: io1, bus: scsi}\n', { baseDir: '/' });
  assert.equal(two.length, 1);
  assert.equal(two[0]?.path, 'disks[2].iothread');
  assert.equal(two[0]?.line, 6);
  assert.match(two[0]?.message ?? '', /virtio-scsi controller 0 share it, and it already runs in iothread `io0` \(set by disks\[0\]\)/);
  const apart = 'name: a\niothreads: 2\ncontrollers: [{type: scsi, index: 0}, {type: scsi, index: 1}]\ndisks:\n  - {path: /i, format: raw, iothread: io0, bus: scsi, address: "drive:0:0:0:0"}\n  - {path: /k, format: raw, iothread: io1, bus: scsi, address: "drive:1:0:0:0"}\n';
  assert.deepEqual(validateDefinition(apart, { baseDir: '/' }), [], 'disks on different virtio-scsi controllers may use different iothreads');
});

test('qemu_args may not take over what vmkit manages', () => {
  const ps = problems('name: a\nqemu_args: [-qmp, "unix:/x", -daemonize, --pidfile, /p, -S, -monitor, stdio]');
  assert.deepEqual(ps.map(where), ['2:13 qemu_args[0]', '2:30 qemu_args[2]', '2:42 qemu_args[3]', '2:57 qemu_args[5]']);
  assert.match(ps[0]?.message ?? '', /^-qmp is managed by vmkit: vmkit connects its own QMP monitor/);
});

test('cpusets and sizes with bad syntax are problems, not crashes', () => {
  const p = only('name: a\nnuma: {nodes: "1-0"}');
  assert.equal(p.path, 'numa.nodes');
  assert.match(p.message, /Invalid cpuset: range "1-0" ends before it starts/);
  assert.equal(only('name: a\nmemory: lots').message, 'Cannot parse size');
  assert.equal(only('name: a\nmemory: 1000K').message, 'Sizes must be whole MiB here');
});

// 10^9 values if expanded: without the budget this never finishes, and the timeout fails it (no wall-clock
// assertion, which a loaded machine would break).
test('a document whose aliases expand beyond the node budget is refused (bounded work)', { timeout: 30_000 }, () => {
  const levels = Array.from({ length: 8 }, (_, i) => `l${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`);
  const text = `name: a\nl0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n${levels.join('\n')}\n`;
  const ps = problems(text);
  assert.equal(ps.length, 1);
  assert.match(ps[0]?.message ?? '', /The document is too large \(more than 100000 values, aliases expanded\)/);
});
