import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDefinition } from '../../src/config/index.js';
import type { DomainSpec } from '../../src/model/domain.js';
import { fixture } from './helpers.js';

function parse(text: string, baseDir = '/defs'): DomainSpec {
  return parseDefinition(text, { baseDir });
}

test('a definition with only a name gets every default filled in', () => {
  const { text, file, baseDir } = fixture('native-minimal.yaml');
  assert.deepEqual(parseDefinition(text, { file, baseDir }), {
    name: 'tiny',
    emulator: 'qemu-system-x86_64',
    machine: { type: 'q35', accel: 'auto' },
    cpu: { vcpus: 1, sockets: 1, cores: 1, threads: 1 },
    memoryMiB: 256,
    memoryBacking: { prealloc: false, locked: false },
    numaCells: [],
    disks: [],
    nics: [],
    serial: { mode: 'console' },
    graphics: { type: 'none' },
    iothreads: [],
    qemuArgs: [],
    tuning: { autoPin: false, vcpuPins: [], iothreadPins: [], isolate: false, debug: false },
    process: { env: {}, clearEnv: false },
    source: { format: 'vmkit-yaml', file },
  });
});

test('every native field is parsed, defaulted and resolved (full fixture)', () => {
  const { text, file, baseDir } = fixture('native-full.yaml');
  const spec = parseDefinition(text, { file, baseDir });
  assert.deepEqual(spec, {
    name: 'db-01',
    uuid: '3f2a1c9e-0b7d-4c2e-9a51-6d0f8e2b4c71',
    emulator: join(baseDir, 'bin/qemu-system-x86_64'),
    machine: { type: 'pc-q35-7.2', accel: 'kvm' },
    cpu: { model: 'host', vcpus: 4, sockets: 1, cores: 2, threads: 2 },
    memoryMiB: 2048,
    memoryBacking: { hugepages: { pageSizeKiB: 2048, path: join(baseDir, 'hugepages') }, prealloc: true, locked: true },
    numaTune: { mode: 'preferred', hostNodes: [0, 1] },
    numaCells: [
      { id: 0, vcpus: [0, 1], memoryMiB: 1024, hostNodes: [0], mode: 'strict' },
      { id: 1, vcpus: [2, 3], memoryMiB: 1024 },
    ],
    boot: { kind: 'firmware', firmware: '/usr/share/OVMF/OVMF_CODE.fd', order: [] },
    disks: [
      {
        id: 'disk0',
        path: join(baseDir, 'images/root,with=odd "chars".qcow2'),
        format: 'qcow2',
        bus: 'virtio',
        media: 'disk',
        cache: 'none',
        aio: 'native',
        readonly: false,
        iothread: 'fast',
        bootIndex: 1,
        serial: 'ROOT-1',
      },
      { id: 'disk1', path: '/srv/iso/install.iso', format: 'raw', bus: 'sata', media: 'cdrom', readonly: true },
      { id: 'disk2', path: join(baseDir, 'data.img'), format: 'raw', bus: 'scsi', media: 'disk', cache: 'writethrough', aio: 'io_uring', readonly: true },
    ],
    nics: [
      {
        kind: 'user',
        id: 'net0',
        model: 'e1000',
        mac: '52:54:00:ab:cd:ef',
        forwards: [
          { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 2222, guestPort: 22 },
          { protocol: 'udp', hostAddress: '0.0.0.0', hostPort: 8053, guestPort: 53 },
        ],
      },
      { kind: 'tap', id: 'net1', model: 'virtio', ifname: 'tap0' },
    ],
    serial: { mode: 'none' },
    graphics: { type: 'vnc', listen: '0.0.0.0', display: 3 },
    iothreads: ['fast', 'slow'],
    qemuArgs: ['-device', 'virtio-rng-pci'],
    tuning: {
      autoPin: false,
      vcpuPins: [
        { vcpu: 0, cpus: [2] },
        { vcpu: 1, cpus: [3] },
        { vcpu: 3, cpus: [5] },
      ],
      emulatorPin: [0, 1],
      iothreadPins: [{ iothread: 'fast', cpus: [6] }],
      vcpuSched: { policy: 'fifo', priority: 10 },
      emulatorSched: { policy: 'batch' },
      iothreadSched: { policy: 'rr', priority: 5 },
      rlimitMemlock: 3 * 1024 ** 3,
      isolate: true,
      debug: true,
    },
    process: { user: 'qemu', group: 64055, env: { QEMU_AUDIO_DRV: 'none' }, clearEnv: true },
    source: { format: 'vmkit-yaml', file },
  });
});

test('direct kernel boot, iothread counts, auto pinning and the vnc shorthand', () => {
  const { text, baseDir } = fixture('native-kernel.yaml');
  const spec = parseDefinition(text, { baseDir });
  assert.deepEqual(spec.boot, { kind: 'kernel', kernel: join(baseDir, '../kernels/vmlinux'), initrd: join(baseDir, 'initrd.img'), cmdline: 'console=ttyS0 quiet' });
  assert.deepEqual(spec.machine, { type: 'microvm', accel: 'auto' });
  assert.equal(spec.memoryMiB, 512);
  assert.deepEqual(spec.iothreads, ['io0', 'io1']);
  assert.equal(spec.disks[0]?.iothread, 'io1');
  assert.equal(spec.disks[0]?.path, '/dev/vg0/lv,root', 'commas in paths are kept verbatim');
  assert.deepEqual(spec.graphics, { type: 'vnc', listen: '127.0.0.1', display: 0 });
  assert.equal(spec.tuning.autoPin, true);
  assert.equal(spec.tuning.rlimitMemlock, 'unlimited');
  assert.equal(spec.source.file, undefined);
});

test('the CPU topology is completed like QEMU does', () => {
  assert.deepEqual(parse('name: a\ncpu: {vcpus: 4}').cpu, { vcpus: 4, sockets: 1, cores: 4, threads: 1 });
  assert.deepEqual(parse('name: a\ncpu: {vcpus: 4, threads: 2}').cpu, { vcpus: 4, sockets: 1, cores: 2, threads: 2 });
  assert.deepEqual(parse('name: a\ncpu: {vcpus: 8, sockets: 2, threads: 2}').cpu, { vcpus: 8, sockets: 2, cores: 2, threads: 2 });
  assert.deepEqual(parse('name: a\ncpu: {sockets: 2, cores: 3}').cpu, { vcpus: 6, sockets: 2, cores: 3, threads: 1 });
  assert.deepEqual(parse('name: a\ncpu: {model: max}').cpu, { model: 'max', vcpus: 1, sockets: 1, cores: 1, threads: 1 });
});

test('memory takes a number of MiB or a size string', () => {
  assert.equal(parse('name: a\nmemory: 1024').memoryMiB, 1024);
  assert.equal(parse('name: a\nmemory: 1G').memoryMiB, 1024);
  assert.equal(parse('name: a\nmemory: "1536MiB"').memoryMiB, 1536);
  assert.equal(parse('name: a\nmemory: 16M').memoryMiB, 16);
});

test('machine accepts a bare type, and the accelerator defaults to auto', () => {
  assert.deepEqual(parse('name: a\nmachine: pc').machine, { type: 'pc', accel: 'auto' });
  assert.deepEqual(parse('name: a\nmachine: {accel: tcg}').machine, { type: 'q35', accel: 'tcg' });
});

test('a cdrom defaults to IDE on pc machines and SATA elsewhere, and is read-only', () => {
  const disk = 'disks: [{path: /i.iso, format: raw, media: cdrom}]';
  assert.equal(parse(`name: a\nmachine: pc\n${disk}`).disks[0]?.bus, 'ide');
  assert.equal(parse(`name: a\nmachine: pc-i440fx-7.2\n${disk}`).disks[0]?.bus, 'ide');
  assert.equal(parse(`name: a\n${disk}`).disks[0]?.bus, 'sata');
  assert.equal(parse(`name: a\n${disk}`).disks[0]?.readonly, true);
});

test('relative paths are resolved against baseDir and absolute paths are kept verbatim', () => {
  const spec = parse('name: a\ndisks:\n  - {path: "../img/a b.qcow2", format: qcow2}\n  - {path: "/x//y/../z.img", format: raw}', '/defs/vm');
  assert.equal(spec.disks[0]?.path, '/defs/img/a b.qcow2');
  assert.equal(spec.disks[1]?.path, '/x//y/../z.img');
  assert.equal(parse('name: a\nemulator: /opt/qemu/bin/qemu-system-x86_64').emulator, '/opt/qemu/bin/qemu-system-x86_64');
  assert.equal(parse('name: a\nemulator: qemu-kvm').emulator, 'qemu-kvm', 'bare names are looked up on PATH later');
});

test('disk ids and nic ids follow list order', () => {
  const spec = parse('name: a\ndisks: [{path: /a, format: raw}, {path: /b, format: raw}]\nnics: [{type: user}, {type: user}, {type: tap, ifname: tap3}]');
  assert.deepEqual(spec.disks.map((d) => d.id), ['disk0', 'disk1']);
  assert.deepEqual(spec.nics.map((n) => n.id), ['net0', 'net1', 'net2']);
  assert.deepEqual(spec.nics[0], { kind: 'user', id: 'net0', model: 'virtio', forwards: [] });
});

test('vCPU pins may be a list indexed by vCPU, and hugepages may be just true', () => {
  const spec = parse('name: a\ncpu: {vcpus: 2}\nmemory_backing: {hugepages: true}\ntuning:\n  pinning: {vcpus: ["0-1", 3]}\n  rlimit_memlock: 64');
  assert.deepEqual(spec.tuning.vcpuPins, [
    { vcpu: 0, cpus: [0, 1] },
    { vcpu: 1, cpus: [3] },
  ]);
  assert.deepEqual(spec.memoryBacking, { hugepages: {}, prealloc: false, locked: false });
  assert.equal(spec.tuning.rlimitMemlock, 64 * 1024 * 1024, 'a number is MiB');
});

test('firmware boot keeps its device order', () => {
  const spec = parse('name: a\nboot: {order: [cdrom, disk]}');
  assert.deepEqual(spec.boot, { kind: 'firmware', order: ['cdrom', 'disk'] });
});

test('a JSON definition is read as native YAML', () => {
  const spec = parse('{"name": "j", "cpu": {"vcpus": 2}, "disks": [{"path": "a.raw", "format": "raw"}]}');
  assert.equal(spec.name, 'j');
  assert.equal(spec.cpu.vcpus, 2);
  assert.equal(spec.disks[0]?.path, '/defs/a.raw');
});

test('the resolved spec is deeply frozen: mutation throws in strict mode', () => {
  const { text, baseDir } = fixture('native-full.yaml');
  const spec = parseDefinition(text, { baseDir });
  const mutable = spec as unknown as {
    name: string;
    disks: { path: string }[];
    cpu: { vcpus: number };
    tuning: { vcpuPins: { cpus: number[] }[] };
    process: { env: Record<string, string> };
  };
  assert.throws(() => {
    mutable.name = 'other';
  }, TypeError);
  assert.throws(() => {
    (mutable.disks[0] as { path: string }).path = '/etc/shadow';
  }, TypeError);
  assert.throws(() => mutable.disks.push({ path: '/x' }), TypeError);
  assert.throws(() => {
    mutable.cpu.vcpus = 64;
  }, TypeError);
  assert.throws(() => mutable.tuning.vcpuPins[0]?.cpus.push(9), TypeError);
  assert.throws(() => {
    mutable.process.env.LD_PRELOAD = 'x';
  }, TypeError);
});
