import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDefinition, validateDefinition } from '../../src/config/index.js';
import { parseLauncher } from '../../src/config/launcher/parse-launcher.js';
import type { Problem } from '../../src/errors.js';
import type { DomainSpec } from '../../src/model/domain.js';
import { fixture, where } from './helpers.js';

const README_OPTIONS = [
  { name: 'name', value: 'my virtual machine' },
  { name: 'machine', value: 'pc,accel=kvm' },
  { name: 'nographic' },
  { name: 'monitor', value: 'unix:/run/my-vm.sock' },
  { name: 'cpu', value: 'host' },
  { name: 'smp', value: '2,sockets=1,cores=1,threads=1' },
  { name: 'm', value: '2G' },
  { name: 'device', value: 'ide-hd,bus=ide.0,drive=drive0' },
  { name: 'drive', value: 'file=/var/storage/my-vm.qcow,if=none,id=drive0,format=qcow,readonly' },
];

function launcher(qemu: string, section = ''): string {
  return `launcher:\n  binary: qemu-system-x86_64\n${section}qemu:\n${qemu}`;
}

function parse(text: string): DomainSpec {
  return parseDefinition(text, { baseDir: '/defs' });
}

function problems(text: string): readonly Problem[] {
  return validateDefinition(text, { file: 'vm.yml', baseDir: '/defs' });
}

function only(text: string): Problem {
  const ps = problems(text);
  assert.equal(ps.length, 1, `expected one problem, got:\n${ps.map((p) => `${where(p)} ${p.message}`).join('\n')}`);
  return ps[0] as Problem;
}

test("the README's three spellings (arrays, strings, mixed) give identical raw options", () => {
  for (const name of ['launcher-readme-arrays.yml', 'launcher-readme-strings.yml', 'launcher-readme-mixed.yml']) {
    const { text, file, baseDir } = fixture(name);
    const result = parseLauncher({ text, file, baseDir });
    assert.deepEqual(result.spec?.rawOptions, README_OPTIONS, name);
  }
});

test("the README's example topology (2 vCPUs as 1*1*1) is reported for each spelling at its smp option", () => {
  const found = ['launcher-readme-arrays.yml', 'launcher-readme-strings.yml', 'launcher-readme-mixed.yml'].map((name) => {
    const { text, file, baseDir } = fixture(name);
    return validateDefinition(text, { file, baseDir });
  });
  assert.deepEqual(found.map((ps) => ps.map(where)), [['10:3 qemu[5].smp'], ['10:3 qemu[5].smp'], ['17:3 qemu[5].smp']]);
  for (const ps of found) {
    assert.equal(ps[0]?.message, 'Invalid CPU topology: sockets*cores*threads = 1*1*1 = 1, but the vCPU count is 2 (QEMU refuses this too)');
  }
});

test('a pinning map that does not fit the -smp topology is reported at each wrong key', () => {
  const { text, file, baseDir } = fixture('launcher-pinning-mismatch.yml');
  const ps = validateDefinition(text, { file, baseDir });
  assert.deepEqual(ps.map(where), ['10:9 launcher.vcpu_pinning.0.0.1', '11:7 launcher.vcpu_pinning.0.1', '21:3 qemu[5].smp']);
  assert.equal(ps[0]?.message, 'vCPU thread 1 does not exist: -smp (line 21) gives threads=1 (threads 0-0); fix the pinning or the topology');
  assert.equal(ps[1]?.message, 'vCPU core 1 does not exist: -smp (line 21) gives cores=1 (cores 0-0); fix the pinning or the topology');
});

test('the README example with its intended topology maps every launcher key into the spec', () => {
  const { text, file, baseDir } = fixture('launcher-readme-fixed.yml');
  const spec = parseDefinition(text, { file, baseDir });
  assert.deepEqual(spec, {
    name: 'launcher-readme-fixed',
    emulator: '/usr/bin/qemu-system-x86_64',
    machine: { type: 'pc', accel: 'kvm' },
    cpu: { model: 'host', vcpus: 2, sockets: 1, cores: 1, threads: 2 },
    memoryMiB: 2048,
    memoryBacking: { prealloc: false, locked: false },
    numaCells: [],
    disks: [],
    nics: [],
    serial: { mode: 'none' },
    graphics: { type: 'none' },
    iothreads: [],
    rawOptions: README_OPTIONS.map((o) => (o.name === 'smp' ? { name: 'smp', value: '2,sockets=1,cores=1,threads=2' } : o)),
    qemuArgs: [],
    tuning: {
      autoPin: false,
      vcpuPins: [
        { vcpu: 0, cpus: [1] },
        { vcpu: 1, cpus: [3] },
      ],
      iothreadPins: [],
      vcpuSched: { policy: 'fifo', priority: 10 },
      rlimitMemlock: 'unlimited',
      isolate: true,
      isolateImplied: true,
      debug: true,
    },
    process: { user: 1000, group: 1000, env: { QEMU_AUDIO_DRV: 'pa', REAL: '1.0' }, clearEnv: true },
    source: { format: 'qemu-launcher', file },
  });
});

test('vCPU pins use index ((socket*cores)+core)*threads+thread', () => {
  const text = launcher(
    '- name: p\n- smp: 8,sockets=2,cores=2,threads=2\n',
    '  vcpu_pinning:\n    1:\n      0: {0: 10, 1: 11}\n      1: {1: "12-13"}\n    0:\n      1: {0: 4}\n',
  );
  assert.deepEqual(parse(text).tuning.vcpuPins, [
    { vcpu: 2, cpus: [4] },
    { vcpu: 4, cpus: [10] },
    { vcpu: 5, cpus: [11] },
    { vcpu: 7, cpus: [12, 13] },
  ]);
  assert.equal(where(only(launcher('- smp: 2\n', '  vcpu_pinning: {1: {0: {0: 3}}}\n'))), '3:18 launcher.vcpu_pinning.1');
});

test('fragments join with commas without doubling a trailing one, and map values get commas doubled', () => {
  const spec = parse(
    launcher(
      [
        '- name: f',
        '- machine: [ "q35,", "accel=tcg" ]',
        '- drive: [ file: "/img/a,b.qcow2", format: qcow2, if: virtio ]',
        '- device: [ "virtio-blk,,x,,", id=d ]',
        '- object: { qom-type: iothread, id: io1 }',
        '- -nographic',
        '- global: [ 0x10, 1.0, true ]',
      ].join('\n'),
    ),
  );
  assert.deepEqual(spec.rawOptions, [
    { name: 'name', value: 'f' },
    { name: 'machine', value: 'q35,accel=tcg' },
    { name: 'drive', value: 'file=/img/a,,b.qcow2,format=qcow2,if=virtio' },
    { name: 'device', value: 'virtio-blk,,x,,,id=d' },
    { name: 'object', value: 'qom-type=iothread,id=io1' },
    { name: 'nographic' },
    { name: 'global', value: '0x10,1.0,true' },
  ]);
  assert.deepEqual(spec.iothreads, ['io1']);
});

test('structured fields are derived from -name, -machine, -accel, -cpu, -smp and -m', () => {
  const a = parse(launcher('- name: guest=web,debug-threads=on\n- M: q35\n- accel: kvm\n- accel: tcg\n- smp: 4\n- m: size=1536M,slots=2\n- cpu: Skylake-Client,-hle\n'));
  assert.equal(a.name, 'web');
  assert.deepEqual(a.machine, { type: 'q35', accel: 'auto' });
  assert.deepEqual(a.cpu, { model: 'Skylake-Client', vcpus: 4, sockets: 1, cores: 4, threads: 1 });
  assert.equal(a.memoryMiB, 1536);
  const b = parse(launcher('- name: b\n- enable-kvm\n- smp: sockets=2,cores=2\n- m: 2048\n'));
  assert.deepEqual(b.machine, { type: 'pc', accel: 'kvm' });
  assert.deepEqual(b.cpu, { vcpus: 4, sockets: 2, cores: 2, threads: 1 });
  assert.equal(b.memoryMiB, 2048);
  const c = parse(launcher('- name: c\n- vnc: 127.0.0.1:2\n'));
  assert.deepEqual(c.machine, { type: 'pc', accel: 'tcg' }, "QEMU's defaults: pc and TCG");
  assert.deepEqual(c.cpu, { vcpus: 1, sockets: 1, cores: 1, threads: 1 });
  assert.equal(c.memoryMiB, 128);
  assert.deepEqual(c.graphics, { type: 'vnc', listen: '127.0.0.1', display: 2 });
  assert.deepEqual(c.serial, { mode: 'console' });
  assert.deepEqual(parse(launcher('- name: d\n- machine: pc,accel=kvm:tcg\n')).machine, { type: 'pc', accel: 'auto' });
});

test('the name is the -name guest when valid, else the file name, else a cleaned -name', () => {
  const text = launcher('- name: my virtual machine\n');
  assert.equal(parseDefinition(text, { file: '/etc/vms/web-1.yml', baseDir: '/etc/vms' }).name, 'web-1');
  assert.equal(parseDefinition(text, { baseDir: '/' }).name, 'my-virtual-machine');
  assert.equal(parseDefinition(launcher('- name: ok.vm\n'), { file: '/x/file.yml', baseDir: '/x' }).name, 'ok.vm');
  const unnamed = validateDefinition(launcher('- nographic\n'), { baseDir: '/' });
  assert.deepEqual(unnamed.map(where), ['3:1 qemu']);
  assert.match(unnamed[0]?.message ?? '', /Cannot name this domain/);
});

test('launcher keys: env keeps source text, user/group take names, rlimit_memlock and debug', () => {
  const spec = parse(launcher('- name: e\n', '  env: {A: 1.50, B: true, C: x}\n  user: qemu\n  group: kvm\n  rlimit_memlock: false\n  scheduler: batch\n  priority: 0\n'));
  assert.deepEqual(spec.process, { user: 'qemu', group: 'kvm', env: { A: '1.50', B: 'true', C: 'x' }, clearEnv: false });
  assert.equal(spec.tuning.rlimitMemlock, undefined);
  assert.deepEqual(spec.tuning.vcpuSched, { policy: 'batch' }, 'priority 0 is what chrt takes for batch');
  assert.equal(spec.tuning.debug, false);
  assert.equal(spec.tuning.isolate, false);
  assert.equal(parse(launcher('- name: e\n', '  binary: ./qemu/bin/qemu\n').replace('  binary: qemu-system-x86_64\n', '')).emulator, '/defs/qemu/bin/qemu');
});

test('unknown launcher keys are errors with a suggestion; binary is required', () => {
  const p = only(launcher('- name: a\n', '  schedular: fifo\n'));
  assert.equal(where(p), '3:3 launcher.schedular');
  assert.equal(p.message, 'Unknown key `schedular`; did you mean `scheduler`?');
  const m = only('launcher:\n  debug: true\nqemu:\n- name: a\n');
  assert.equal(where(m), '2:3 launcher.binary');
  assert.match(m.message, /Missing required key `binary`/);
  assert.equal(only(launcher('- name: a\n') + 'extra: 1\n').message, 'Unknown key `extra`');
});

test('scheduler rules: deadline rejected, fifo/rr need 1-99, priority needs a scheduler', () => {
  assert.match(only(launcher('- name: a\n', '  scheduler: deadline\n  priority: 5\n')).message, /deadline policy needs sched_setattr runtime\/deadline\/period parameters, which vmkit does not support; use fifo or rr/);
  assert.equal(only(launcher('- name: a\n', '  scheduler: rr\n')).message, 'The rr policy needs a priority from 1 to 99');
  assert.equal(only(launcher('- name: a\n', '  scheduler: fifo\n  priority: 0\n')).path, 'launcher.priority');
  assert.match(only(launcher('- name: a\n', '  priority: 5\n')).message, /A priority needs a scheduler policy/);
  assert.equal(only(launcher('- name: a\n', '  scheduler: idle\n  priority: 3\n')).message, 'The idle policy takes no priority (only fifo and rr do); remove it');
});

test('options vmkit manages are refused with the reason; -monitor stays allowed', () => {
  const ps = problems(launcher('- name: a\n- qmp: stdio\n- daemonize\n- pidfile: /run/x.pid\n- S\n- monitor: stdio\n'));
  assert.deepEqual(ps.map(where), ['5:3 qemu[1].qmp', '6:3 qemu[2]', '7:3 qemu[3].pidfile', '8:3 qemu[4]']);
  assert.match(ps[0]?.message ?? '', /^-qmp is managed by vmkit: .*use `-monitor` for an extra human monitor; remove it$/);
  assert.match(ps[3]?.message ?? '', /^-S is managed by vmkit: vmkit always starts QEMU paused/);
});

test('malformed qemu items are problems at their position', () => {
  const ps = problems(launcher('- name: a\n  m: 1G\n- cpu:\n- smp: []\n- device: [ [a] ]\n- 42\n- drive: [ file: ]\n'));
  assert.deepEqual(ps.map(where), ['4:3 qemu[0]', '6:3 qemu[1].cpu', '7:8 qemu[2].smp', '8:13 qemu[3].device[0]', '9:3 qemu[4]', '10:12 qemu[5].drive[0].file']);
  assert.match(ps[0]?.message ?? '', /this one has 2 keys/);
  assert.match(ps[1]?.message ?? '', /`cpu` has no value/);
  assert.match(ps[2]?.message ?? '', /`smp` has an empty list/);
});

test('derived options that vmkit cannot use are problems', () => {
  assert.match(only(launcher('- name: a\n- accel: xen\n')).message, /vmkit supports the kvm and tcg accelerators/);
  assert.match(only(launcher('- name: a\n- machine: pc,accel=kvm\n- enable-kvm\n')).message, /incompatible/);
  assert.match(only(launcher('- name: a\n- smp: 2,maxcpus=4\n')).message, /CPU hotplug/);
  assert.match(only(launcher('- name: a\n- smp: 4,dies=2\n')).message, /dies=2 is not supported/);
  assert.equal(only(launcher('- name: a\n- m: 8M\n')).path, 'qemu[1].m');
  assert.match(only(launcher('- name: a\n- smp: four\n')).message, /-smp cpus must be a whole number/);
});

test('a launcher file without a qemu list or launcher section is reported', () => {
  assert.match(only('launcher:\n  binary: q\n').message, /Missing required key `qemu`/);
  assert.match(only('qemu:\n- name: a\n').message, /Missing required key `launcher`/);
});
