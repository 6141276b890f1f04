import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDefinition } from '../../src/config/index.js';
import { ConfigError, formatProblem, type Problem } from '../../src/errors.js';
import type { DomainSpec } from '../../src/model/domain.js';
import type { HostTopology } from '../../src/host/topology.js';
import { validateTuning } from '../../src/tuning/validate.js';
import {
  CapsCache,
  checkSpecAgainstHost,
  definitionLocator,
  effectiveAccel,
  hostProblems,
  specLocator,
  validateAgainstCaps,
  withPositions,
  type QemuCaps,
} from '../../src/host/caps/index.js';
import { countingProbe, fakeBinary, fakeFacts, fixturePath, fixtureText, recordedCaps, tempDir } from './helpers.js';

function load(name: string): { spec: DomainSpec; text: string; file: string } {
  const file = fixturePath(name);
  const text = fixtureText(name);
  return { spec: parseDefinition(text, { file, baseDir: '/tmp' }), text, file };
}

function inline(yaml: string): { spec: DomainSpec; text: string } {
  return { spec: parseDefinition(yaml, { file: 'inline.yaml', baseDir: '/tmp' }), text: yaml };
}

function check(spec: DomainSpec, text: string, caps: QemuCaps = recordedCaps()): Problem[] {
  return validateAgainstCaps(spec, caps, { positions: definitionLocator(text, spec.source.file) });
}

const where = (p: Problem): string => `${p.line ?? '?'}:${p.col ?? '?'} ${p.path}`;

/** The recorded caps without some device, object or netdev types. */
function without(names: { devices?: string[]; objects?: string[]; netdevs?: string[] }): QemuCaps {
  const c = recordedCaps();
  return {
    ...c,
    devices: c.devices.filter((d) => !(names.devices ?? []).includes(d.name)),
    objects: c.objects.filter((o) => !(names.objects ?? []).includes(o)),
    netdevBackends: c.netdevBackends.filter((n) => !(names.netdevs ?? []).includes(n)),
  };
}

test('a wrong machine type, CPU model, device, object, netdev and chardev are each reported at file:line:col with the closest names', () => {
  const { spec, text, file } = load('wrong-names.yaml');
  const problems = check(spec, text);
  assert.deepEqual(problems.map(where), [
    '4:9 machine.type',
    '7:10 cpu.model',
    '15:5 qemu_args[1]',
    '17:5 qemu_args[3]',
    '19:5 qemu_args[5]',
    '21:5 qemu_args[7]',
  ]);
  assert.ok(problems.every((p) => p.file === file));
  const [machine, cpu, device, object, netdev, chardev] = problems.map((p) => p.message);
  assert.match(machine ?? '', /^Machine type "q36" is not available in \/usr\/bin\/qemu-system-x86_64 \(QEMU 7\.2\.22\): did you mean q35\?$/);
  assert.match(cpu ?? '', /CPU model "Skylake" .*did you mean Skylake-Client, Skylake-Server or /);
  assert.match(device ?? '', /Device type "virtio-rng-pcie" .*did you mean virtio-rng-pci\?$/);
  assert.match(object ?? '', /Object type \(-object\) "iothred" .*did you mean iothread\?$/);
  assert.match(netdev ?? '', /Network backend \(-netdev type\) "usr" .*did you mean user\?$/);
  assert.match(chardev ?? '', /Character device backend \(-chardev type\) "sockt" .*did you mean socket\?$/);
  assert.equal(problems[0]?.found, '"q36"');
  assert.match(formatProblem(problems[0] as Problem), /wrong-names\.yaml:4:9: machine\.type: Machine type "q36"/);
});

test('a name with nothing close points to `vmkit host caps` instead of guessing', () => {
  const { spec, text } = inline('name: a\nmachine: {type: zzzzzzzz, accel: tcg}\n');
  const [p] = check(spec, text);
  assert.match(p?.message ?? '', /Machine type "zzzzzzzz" is not available .*`vmkit host caps --binary \/usr\/bin\/qemu-system-x86_64` lists what it has$/);
});

test('a versioned machine type this binary lacks gets the newest of its family and the alias: other distributions, typos, old versions', () => {
  const cases: [string, string][] = [
    ['pc-q35-rhel9.2.0', 'pc-q35-7.2 (or q35)'], // exported on RHEL
    ['pc-i440fx-rhel7.6.0', 'pc-i440fx-7.2 (or pc)'],
    ['pc-q99', 'pc-q35-7.2 (or q35)'], // a misspelt chipset
    ['pc-q35-9.9', 'pc-q35-7.2 (or q35)'], // newer than this QEMU
    ['pc-1.0', 'pc-i440fx-7.2 (or pc)'], // long removed
    ['microvm-7.2', 'microvm'],
  ];
  for (const [type, suggestion] of cases) {
    const { spec, text } = inline(`name: a\nmachine: {type: ${type}, accel: tcg}\n`);
    const [p, ...rest] = check(spec, text);
    assert.deepEqual(rest, [], type);
    assert.equal(p?.message, `Machine type "${type}" is not available in /usr/bin/qemu-system-x86_64 (QEMU 7.2.22): did you mean ${suggestion}?`);
    assert.equal(where(p as Problem), '2:17 machine.type');
  }
  // Names of no family keep the closest names; a binary without the family falls back to them as well.
  const q36 = inline('name: a\nmachine: {type: q36, accel: tcg}\n');
  assert.match(check(q36.spec, q36.text)[0]?.message ?? '', /did you mean q35\?$/);
  const onlyQ35 = recordedCaps({ machines: recordedCaps().machines.filter((m) => m.name.startsWith('pc-q35-')) });
  const rhel7 = inline('name: a\nmachine: {type: pc-i440fx-rhel7.6.0, accel: tcg}\n');
  assert.doesNotMatch(check(rhel7.spec, rhel7.text, onlyQ35)[0]?.message ?? '', /pc-i440fx-7\.2/);
});

test('a KVM-only binary (microvm build) without usable KVM cannot run guests: the accelerator problem says so', () => {
  const kvmOnly = recordedCaps({ binary: '/usr/bin/qemu-system-x86_64-microvm', kvm: { present: true, enabled: false }, accels: ['kvm', 'qtest'], probeAccel: 'qtest' });
  const { spec, text } = inline('name: a\nmachine:\n  type: microvm\n  accel: auto\n');
  const [p, ...rest] = check(spec, text, kvmOnly);
  assert.deepEqual(rest, []);
  assert.equal(where(p as Problem), '4:10 machine.accel');
  assert.equal(
    p?.message,
    'Only the kvm accelerator is built into /usr/bin/qemu-system-x86_64-microvm (QEMU 7.2.22) and KVM is not usable here (/dev/kvm is missing or this user cannot open it read-write): this binary cannot run guests here; use a QEMU with TCG (qemu-system-x86_64), or see `vmkit host validate`',
  );
  assert.deepEqual(check(spec, text, { ...kvmOnly, kvm: { present: true, enabled: true }, probeAccel: 'kvm' }), [], 'with KVM it runs');
});

test('machine aliases and versioned names are accepted (q35 = pc-q35-7.2, pc, microvm)', () => {
  for (const type of ['q35', 'pc-q35-7.2', 'pc', 'pc-i440fx-7.2', 'microvm', 'pc-q35-2.12']) {
    const { spec, text } = inline(`name: a\nmachine: {type: ${type}, accel: tcg}\n`);
    assert.deepEqual(check(spec, text), [], type);
  }
});

test('every device family the argv builder generates is checked, and reported at the field that asked for it', () => {
  const { spec, text } = load('all-devices.yaml');
  assert.deepEqual(check(spec, text), [], 'all present in QEMU 7.2');
  const cases: [Parameters<typeof without>[0], string][] = [
    [{ devices: ['virtio-blk-pci'] }, '10:5 disks[0].bus'], // no `bus:` written: the disk itself
    [{ devices: ['scsi-hd'] }, '11:55 disks[1].bus'],
    [{ devices: ['virtio-scsi-pci'] }, '11:55 disks[1].bus'],
    [{ devices: ['ide-cd'] }, '12:72 disks[2].bus'],
    [{ devices: ['virtio-net-pci'] }, '14:25 nics[0].model'],
    [{ devices: ['e1000e'] }, '15:38 nics[1].model'],
    [{ devices: ['VGA'] }, '16:11 graphics'],
    [{ netdevs: ['tap'] }, '15:12 nics[1].type'],
    [{ objects: ['iothread'] }, '8:13 iothreads[0]'],
    [{ objects: ['memory-backend-file'] }, '7:14 memory_backing.hugepages'],
    [{ objects: ['rng-random'] }, '17:47 qemu_args[3]'],
    [{ devices: ['virtio-rng-pci'] }, '17:22 qemu_args[1]'],
  ];
  for (const [missing, at] of cases) {
    const problems = check(spec, text, without(missing));
    assert.deepEqual(problems.map(where), [at], JSON.stringify(missing));
  }
});

test('KVM asked for but not usable is a problem at machine.accel; auto falls back to TCG', () => {
  const noKvm = recordedCaps({ kvm: { present: true, enabled: false }, probeAccel: 'tcg' });
  const kvm = inline('name: a\nmachine:\n  type: q35\n  accel: kvm\n');
  const [p, ...rest] = check(kvm.spec, kvm.text, noKvm);
  assert.deepEqual(rest, []);
  assert.equal(where(p as Problem), '4:10 machine.accel');
  assert.match(p?.message ?? '', /^KVM is not usable here: \/dev\/kvm is missing or this user cannot open it read-write; use accel tcg/);
  const builtWithout = check(kvm.spec, kvm.text, recordedCaps({ kvm: { present: false, enabled: false }, accels: ['tcg'] }));
  assert.match(builtWithout[0]?.message ?? '', /is built without KVM/);
  const auto = inline('name: a\nmachine: q35\n');
  assert.equal(effectiveAccel(auto.spec, noKvm), 'tcg');
  assert.equal(effectiveAccel(auto.spec, recordedCaps()), 'kvm');
  assert.deepEqual(check(auto.spec, auto.text, noKvm), []);
});

test('CPU model host needs KVM: fine under kvm, a problem under tcg (explicit or auto without KVM); max is fine under both', () => {
  const host = (accel: string): { spec: DomainSpec; text: string } => inline(`name: a\nmachine: {type: q35, accel: ${accel}}\ncpu:\n  model: host\n`);
  assert.deepEqual(check(host('kvm').spec, host('kvm').text), []);
  const tcg = check(host('tcg').spec, host('tcg').text);
  assert.deepEqual(tcg.map(where), ['4:10 cpu.model']);
  assert.match(tcg[0]?.message ?? '', /needs KVM, but this VM runs under TCG: use model max/);
  const auto = host('auto');
  assert.deepEqual(check(auto.spec, auto.text, recordedCaps({ kvm: { present: true, enabled: false } })).map(where), ['4:10 cpu.model']);
  const max = inline('name: a\nmachine: {type: q35, accel: tcg}\ncpu: {model: max}\n');
  assert.deepEqual(check(max.spec, max.text), []);
});

test('qemu-launcher definitions are checked option by option, at the qemu: item that wrote the name', () => {
  const { spec, text } = load('launcher-wrong.yml');
  const problems = check(spec, text);
  assert.deepEqual(problems.map(where), ['5:3 qemu[1]', '6:3 qemu[2]', '8:3 qemu[4]']);
  assert.match(problems[0]?.message ?? '', /Machine type "pc-q35-9\.9" .*: did you mean pc-q35-7\.2 \(or q35\)\?$/);
  assert.match(problems[1]?.message ?? '', /CPU model "host" .*needs KVM/);
  assert.match(problems[2]?.message ?? '', /Device type "virtio-blk-pcii" .*did you mean virtio-blk-pci\?/);
});

test('qemu_args in other spellings are read too: --device, JSON -device, -nic, -accel, help requests ignored', () => {
  const { spec, text } = inline(
    [
      'name: a',
      'machine: {type: q35, accel: tcg}',
      'qemu_args:',
      '  - --device',
      '  - \'{"driver": "virtio-rng-pcx", "id": "r"}\'',
      '  - -nic',
      '  - usr,model=virtio',
      '  - -device',
      '  - help',
      '  - -accel',
      '  - hvf',
    ].join('\n'),
  );
  const problems = check(spec, text);
  assert.deepEqual(problems.map(where), ['5:5 qemu_args[1]', '7:5 qemu_args[3]', '11:5 qemu_args[7]']);
  assert.match(problems[0]?.message ?? '', /"virtio-rng-pcx"/);
  assert.match(problems[1]?.message ?? '', /"usr"/);
  assert.match(problems[2]?.message ?? '', /No accelerator of "hvf" can run with .*; it has kvm or tcg/);
});

test('hardware the machine cannot have (from the argv builder) is reported with its position', () => {
  const { spec, text } = inline('name: a\nmachine: microvm\ngraphics:\n  type: vnc\n  listen: 127.0.0.1\n  display: 1\n');
  const problems = check(spec, text);
  assert.deepEqual(problems.map(where), ['4:9 graphics.type']);
  assert.match(problems[0]?.message ?? '', /no PCI bus for a VGA card/);
});

test('libvirt XML: host problems carry file:line:col and the XML path of the attribute or text that named the value', () => {
  const xml = [
    "<domain type='qemu'>",
    '  <name>x</name>',
    "  <memory unit='MiB'>128</memory>",
    '  <os>',
    "    <type arch='x86_64' machine='pc-q99'>hvm</type>",
    '  </os>',
    "  <cpu mode='custom'><model>Skylake</model></cpu>",
    '  <devices>',
    "    <interface type='user'><model type='e1000'/></interface>",
    '  </devices>',
    '</domain>',
  ].join('\n');
  const spec = parseDefinition(xml, { file: 'vm.xml', baseDir: '/tmp' });
  const problems = validateAgainstCaps(spec, without({ devices: ['e1000'] }), { positions: specLocator(spec, xml) });
  assert.deepEqual(problems.map((p) => `${p.file ?? '?'}:${where(p)}`), [
    'vm.xml:5:25 /domain/os/type/@machine',
    'vm.xml:7:29 /domain/cpu/model',
    'vm.xml:9:35 /domain/devices/interface/model/@type',
  ]);
  assert.match(problems[0]?.message ?? '', /"pc-q99" .*did you mean pc-q35-7\.2 \(or q35\)\?$/);
});

test('qemu-launcher: problems at spec fields are placed at what wrote them: a vCPU pin at its socket/core/thread entry', () => {
  const text = [
    'launcher:',
    '  binary: qemu-system-x86_64',
    '  vcpu_pinning:',
    '    0:',
    '      0:',
    '        0: 1',
    '      1:',
    '        0: 999',
    'qemu:',
    '- name: lx',
    '- smp: cpus=2,sockets=1,cores=2,threads=1',
  ].join('\n');
  const spec = parseDefinition(text, { file: 'l.yml', baseDir: '/tmp' });
  const topo: HostTopology = { cpus: [0, 1].map((id) => ({ id, online: true, core: id, socket: 0, node: 0, siblings: [id] })), nodes: [0] };
  const problems = withPositions(validateTuning(spec, topo), spec, text);
  assert.deepEqual(problems.map((p) => `${p.file ?? '?'}:${where(p)}`), ['l.yml:8:12 launcher.vcpu_pinning.0.1.0']);
  assert.match(problems[0]?.message ?? '', /^vCPU 1 is pinned to host CPU 999, which does not exist/);
});

test('positions are looked up only when there is a problem: a valid definition is not read again', async (t) => {
  const dir = await tempDir(t);
  const binary = await fakeBinary(dir);
  const cache = new CapsCache({ cacheDir: join(dir, 'cache'), facts: fakeFacts({ kernel: 'k', kvm: true }), probe: countingProbe() });
  for (const [name, text, expectedReads] of [
    ['good.yaml', `name: a\nemulator: ${binary}\nmachine: q35\n`, 0],
    ['bad.yaml', `name: a\nemulator: ${binary}\nmachine: pc-q99\ncpu: {model: Skylake}\n`, 1],
    ['good.xml', `<domain type='kvm'><name>a</name><memory>131072</memory><os><type machine='q35'>hvm</type></os><devices><emulator>${binary}</emulator></devices></domain>`, 0],
    ['bad.xml', `<domain type='kvm'><name>a</name><memory>131072</memory><os><type machine='pc-q99'>hvm</type></os><devices><emulator>${binary}</emulator></devices></domain>`, 1],
  ] as const) {
    const spec = parseDefinition(text, { file: name, baseDir: '/tmp' });
    let reads = 0;
    const r = await hostProblems(spec, { cache, text: () => (reads++, text) });
    assert.equal(reads, expectedReads, name);
    assert.ok(r.problems.every((p) => p.line !== undefined), name);
  }
});

test('without a definition text, problems carry the path and the source file but no line', () => {
  const { spec } = load('wrong-names.yaml');
  const [p] = validateAgainstCaps(spec, recordedCaps());
  assert.equal(p?.path, 'machine.type');
  assert.equal(p?.file, spec.source.file);
  assert.equal(p?.line, undefined);
});

test('checkSpecAgainstHost looks up the binary once per call, however many devices, and throws every problem at once', async (t) => {
  const dir = await tempDir(t);
  const binary = await fakeBinary(dir);
  const probe = countingProbe();
  const cache = new CapsCache({ cacheDir: join(dir, 'cache'), facts: fakeFacts({ kernel: 'k', kvm: true }), probe });
  const { text, file } = load('wrong-names.yaml');
  const spec = parseDefinition(text.replace('name: wrong-names', `name: wrong-names\nemulator: ${binary}`), { file, baseDir: '/tmp' });
  const err = await checkSpecAgainstHost(spec, { cache, text }).then(
    () => assert.fail('expected a ConfigError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConfigError);
  assert.equal(err.problems.length, 6);
  assert.match(err.message, /^Invalid definition: 6 problems\n/);
  assert.equal(cache.stats.probes + cache.stats.fileHits + cache.stats.memoryHits, 1, 'one look-up');
  const good = load('all-devices.yaml');
  const many = parseDefinition(good.text.replace('name: all-devices', `name: all-devices\nemulator: ${binary}`), { file: good.file, baseDir: '/tmp' });
  const caps = await checkSpecAgainstHost(many, { cache, text: good.text });
  assert.equal(caps.binary, binary);
  assert.equal(cache.stats.memoryHits, 1, 'the second operation: one more look-up, from memory');
  assert.equal(probe.calls.length, 1);
});

test('a missing QEMU binary is a problem at the field that names it', async (t) => {
  const dir = await tempDir(t);
  const cache = new CapsCache({ cacheDir: join(dir, 'cache'), probe: countingProbe() });
  const native = inline('name: a\nemulator: /opt/nowhere/qemu-system-x86_64\n');
  const r = await hostProblems(native.spec, { cache, text: native.text });
  assert.equal(r.caps, undefined);
  assert.deepEqual(r.problems.map(where), ['2:11 emulator']);
  assert.match(r.problems[0]?.message ?? '', /\/opt\/nowhere\/qemu-system-x86_64 does not exist/);
  const launcherText = 'launcher:\n  binary: qemu-system-nowhere\nqemu:\n- name: x\n';
  const launcher = inline(launcherText);
  const l = await hostProblems(launcher.spec, { cache, text: launcherText });
  assert.deepEqual(l.problems.map(where), ['2:11 launcher.binary']);
  assert.match(l.problems[0]?.message ?? '', /'qemu-system-nowhere' not found on PATH/);
});
