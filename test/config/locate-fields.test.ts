/**
 * Positions for problems found after parsing (host capabilities, networks, tuning), in each format: the
 * qemu-launcher mapping from spec fields to the options that set them, the libvirt XML mapping from native
 * pointers to the nodes they were read from, and tuning paths mapped to where pins are written.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDefinition } from '../../src/config/index.js';
import { launcherLocator } from '../../src/config/launcher/locate.js';
import { libvirtLocator } from '../../src/config/libvirt/locate.js';
import { problemPointer, withPositions } from '../../src/host/caps/index.js';
import type { Problem } from '../../src/errors.js';

const LAUNCHER = [
  'launcher:', //                          1
  '  binary: qemu-system-x86_64', //       2
  '  scheduler: fifo', //                  3
  '  priority: 10', //                     4
  '  vcpu_pinning:', //                    5
  '    0:', //                             6
  '      0:', //                           7
  '        0: 2', //                       8
  '        1: 3', //                       9
  '      1:', //                          10
  '        0: 4', //                      11
  'qemu:', //                             12
  '- name: lx', //                        13
  '- machine: q35', //                    14
  '- accel: tcg', //                      15
  '- cpu: max', //                        16
  '- smp: cpus=4,sockets=1,cores=2,threads=2', // 17
  '- m: 1G', //                           18
  '- object: iothread,id=io0', //         19
  '- machine: pc', //                     20: the last -machine wins, as in QEMU
].join('\n');

test('qemu-launcher: each spec field is placed at the option or launcher entry that set it', () => {
  const locate = launcherLocator(LAUNCHER, 'l.yml', { cpu: { cores: 2, threads: 2 } });
  const at = (pointer: string): string => {
    const p = locate(pointer);
    return p === undefined ? 'none' : `${p.line}:${p.col} ${p.path}`;
  };
  assert.equal(at('/machine/type'), '20:3 qemu[7]');
  assert.equal(at('/machine/accel'), '15:3 qemu[2]');
  assert.equal(at('/cpu/model'), '16:3 qemu[3]');
  assert.equal(at('/cpu/vcpus'), '17:3 qemu[4]');
  assert.equal(at('/memory'), '18:3 qemu[5]');
  assert.equal(at('/iothreads/0'), '19:3 qemu[6]');
  assert.equal(at('/name'), '13:3 qemu[0]');
  assert.equal(at('/emulator'), '2:11 launcher.binary');
  // vCPU index = ((socket * cores) + core) * threads + thread: vCPU 1 is 0/0/1, vCPU 2 is 0/1/0.
  assert.equal(at('/tuning/pinning/vcpus/1'), '9:12 launcher.vcpu_pinning.0.0.1');
  assert.equal(at('/tuning/pinning/vcpus/2'), '11:12 launcher.vcpu_pinning.0.1.0');
  assert.equal(at('/tuning/isolate'), '6:5 launcher.vcpu_pinning');
  assert.equal(at('/tuning/scheduler/vcpus/policy'), '3:14 launcher.scheduler');
  assert.equal(at('/tuning/scheduler/vcpus/priority'), '4:13 launcher.priority');
  assert.equal(at('/qemu/1'), '14:3 qemu[1]');
  // A value QEMU takes by default (no -vnc, no -serial): the qemu: list itself.
  assert.equal(at('/graphics'), '13:1 qemu');
  assert.equal(launcherLocator('launcher: [', 'bad.yml')('/machine/type'), undefined, 'not YAML: no position');
});

test('libvirt XML: native pointers lead to the node their value was read from, or its closest recorded ancestor', () => {
  const xml = [
    "<domain type='kvm'>",
    '  <name>x</name>',
    "  <memory unit='MiB'>256</memory>",
    "  <os><type arch='x86_64' machine='q35'>hvm</type></os>",
    '  <devices>',
    "    <interface type='network'><source network='default'/></interface>",
    "    <interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>",
    '  </devices>',
    '</domain>',
  ].join('\n');
  const locate = libvirtLocator(xml, 'd.xml');
  const at = (pointer: string): string => {
    const p = locate(pointer);
    return p === undefined ? 'none' : `${p.file ?? '?'}:${p.line}:${p.col} ${p.path}`;
  };
  assert.equal(at('/machine/type'), 'd.xml:4:27 /domain/os/type/@machine');
  assert.equal(at('/memory'), 'd.xml:3:22 /domain/memory');
  assert.equal(at('/nics/0/network'), 'd.xml:6:39 /domain/devices/interface[1]/source/@network');
  assert.equal(at('/nics/1/bridge'), 'd.xml:7:38 /domain/devices/interface[2]/source/@bridge');
  assert.equal(at('/nics/1/mtu'), 'd.xml:7:5 /domain/devices/interface[2]', 'not written: the NIC');
  assert.equal(at('/tuning/isolate'), 'd.xml:1:1 /domain', 'nothing recorded: the domain');
  assert.equal(libvirtLocator('<domain><name>', 'bad.xml')('/name'), undefined, 'not well-formed: no position');
});

test('tuning problems name DomainSpec fields; they are placed where the pin, scheduler or limit is written', () => {
  const yaml = [
    'name: t', //                              1
    'cpu: { vcpus: 4 }', //                    2
    'tuning:', //                              3
    '  pinning:', //                           4
    '    vcpus: { 1: "7", 3: "99" }', //       5
    '    iothreads: { io0: "98" }', //          6
    '  scheduler: { vcpus: { policy: fifo, priority: 50 } }', // 7
    '  rlimit_memlock: 1G', //                 8
    'iothreads: [io0]', //                     9
  ].join('\n');
  const spec = parseDefinition(yaml, { file: 't.yaml', baseDir: '/tmp' });
  assert.equal(problemPointer(spec, 'tuning.vcpuPins[1].cpus'), '/tuning/pinning/vcpus/3');
  assert.equal(problemPointer(spec, 'tuning.iothreadPins[0].cpus'), '/tuning/pinning/iothreads/io0');
  assert.equal(problemPointer(spec, 'tuning.vcpuSched.priority'), '/tuning/scheduler/vcpus/priority');
  assert.equal(problemPointer(spec, 'nics[0].bridge'), '/nics/0/bridge');
  const problems: Problem[] = [
    { file: 't.yaml', path: 'tuning.vcpuPins[1].cpus', message: 'vCPU 3 is pinned to host CPU 99, which does not exist' },
    { file: 't.yaml', path: 'tuning.iothreadPins[0].cpus', message: 'iothread io0 is pinned to host CPU 98' },
    { file: 't.yaml', path: 'tuning.vcpuSched.priority', message: 'needs CAP_SYS_NICE' },
    { file: 't.yaml', path: 'tuning.rlimitMemlock', message: 'beyond the hard limit' },
    { file: 'other.yaml', path: 'tuning.rlimitMemlock', message: 'another file: left as it is' },
  ];
  assert.deepEqual(withPositions(problems, spec, yaml).map((p) => `${p.line ?? '?'}:${p.col ?? '?'} ${p.path}`), [
    '5:25 tuning.vcpuPins[1].cpus',
    '6:23 tuning.iothreadPins[0].cpus',
    '7:49 tuning.vcpuSched.priority',
    '8:19 tuning.rlimitMemlock',
    '?:? tuning.rlimitMemlock',
  ]);
});
