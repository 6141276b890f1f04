/** libvirt domain XML import, element by element: what each element becomes in the DomainSpec. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildArgv } from '../../src/qemu/argv/index.js';
import { argvContext } from '../qemu/fixtures.js';
import { parseDefinition, parseLibvirtXml, validateDefinition } from '../../src/config/index.js';
import { formatProblem } from '../../src/errors.js';
import type { DomainSpec } from '../../src/model/domain.js';

const OS = "<os><type arch='x86_64' machine='q35'>hvm</type></os>";

/** A whole domain around `body` (name, memory and os unless the body brings its own). */
function domain(body: string, opts: { type?: string; ns?: boolean } = {}): string {
  const ns = opts.ns === true ? " xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'" : '';
  const memory = /<memory[\s>]/.test(body) || body.includes('<numa>') ? '' : "<memory unit='MiB'>256</memory>";
  const os = body.includes('<os>') ? '' : OS;
  return `<domain type='${opts.type ?? 'kvm'}'${ns}>\n<name>t</name>\n${memory}${os}\n${body}\n</domain>\n`;
}

function spec(body: string, opts: { type?: string; ns?: boolean } = {}): DomainSpec {
  const r = parseLibvirtXml(domain(body, opts), { file: 'd.xml', baseDir: '/defs' });
  assert.deepEqual(r.problems.map(formatProblem), []);
  assert.ok(r.spec !== undefined);
  return r.spec;
}

test('<domain type> chooses the accelerator: kvm -> kvm, qemu -> tcg', () => {
  assert.equal(spec('', { type: 'kvm' }).machine.accel, 'kvm');
  assert.equal(spec('', { type: 'qemu' }).machine.accel, 'tcg');
});

test('a minimal domain gets libvirt defaults: machine pc, one vCPU, the first disk boots, a virtio balloon', () => {
  const s = parseDefinition("<domain type='qemu'><name>m</name><memory>131072</memory><os><type>hvm</type></os></domain>", { baseDir: '/defs' });
  assert.equal(s.name, 'm');
  assert.deepEqual(s.machine, { type: 'pc', accel: 'tcg' });
  assert.deepEqual(s.cpu, { vcpus: 1, sockets: 1, cores: 1, threads: 1 });
  assert.equal(s.memoryMiB, 128);
  assert.deepEqual(s.boot, { kind: 'firmware', order: ['disk'] });
  assert.deepEqual(s.qemuArgs, []);
  assert.deepEqual(s.balloon, { autodeflate: false, freePageReporting: false });
  assert.deepEqual(s.serial, { mode: 'none' });
  assert.deepEqual(s.graphics, { type: 'none' });
  assert.equal(s.emulator, 'qemu-system-x86_64');
  assert.deepEqual(s.source, { format: 'libvirt-xml' });
});

test('uuid is kept (lower case), the emulator path is taken from <devices><emulator>', () => {
  const s = spec("<uuid>63840878-0DEB-4095-97E6-FC444D9BC9FA</uuid><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>");
  assert.equal(s.uuid, '63840878-0deb-4095-97e6-fc444d9bc9fa');
  assert.equal(s.emulator, '/usr/bin/qemu-system-x86_64');
});

test('memory units: KiB by default, b/KiB/MiB/GiB powers of 1024, KB/MB/GB powers of 1000, rounded up to whole MiB', () => {
  const mib = (m: string): number => spec(m).memoryMiB;
  assert.equal(mib('<memory>1048576</memory>'), 1024);
  assert.equal(mib("<memory unit='KiB'>524288</memory>"), 512);
  assert.equal(mib("<memory unit='G'>2</memory>"), 2048);
  assert.equal(mib("<memory unit='GiB'>1</memory>"), 1024);
  assert.equal(mib("<memory unit='b'>268435456</memory>"), 256);
  assert.equal(mib("<memory unit='bytes'>268435456</memory>"), 256);
  assert.equal(mib("<memory unit='MB'>1000</memory>"), 954, '1000 MB = 953.67 MiB, rounded up as libvirt aligns');
  assert.equal(mib("<memory unit='kib'>1000001</memory>"), 977);
  assert.equal(mib("<memory unit='MiB'>300</memory><currentMemory unit='MiB'>300</currentMemory>"), 300);
});

test('<vcpu> and <cpu><topology>: without a topology every vCPU is its own socket, as in libvirt', () => {
  assert.deepEqual(spec('<vcpu>4</vcpu>').cpu, { vcpus: 4, sockets: 4, cores: 1, threads: 1 });
  assert.deepEqual(spec("<vcpu placement='static' current='6'>6</vcpu><cpu><topology sockets='1' dies='1' cores='3' threads='2'/></cpu>").cpu, {
    vcpus: 6,
    sockets: 1,
    cores: 3,
    threads: 2,
  });
});

test('<cpu mode>: host-passthrough and host-model -> host, maximum -> max, custom -> its <model>', () => {
  assert.equal(spec("<cpu mode='host-passthrough'/>").cpu.model, 'host');
  assert.equal(spec("<cpu mode='host-model'/>").cpu.model, 'host');
  assert.equal(spec("<cpu mode='maximum' migratable='on'/>").cpu.model, 'max');
  assert.equal(spec("<cpu mode='custom' match='exact' check='partial'><model fallback='allow'>Haswell-noTSX</model></cpu>").cpu.model, 'Haswell-noTSX');
  assert.equal(spec("<cpu><model>qemu64</model></cpu>").cpu.model, 'qemu64');
  assert.equal(spec('<cpu/>').cpu.model, undefined);
});

test('NUMA cells: ids in order, memory in KiB by default, the guest memory is the sum of the cells', () => {
  const s = spec(
    "<vcpu>4</vcpu><cpu><numa><cell id='0' cpus='0,1' memory='262144'/><cell id='1' cpus='2-3' memory='256' unit='MiB'/></numa></cpu>" +
      "<numatune><memory mode='interleave' nodeset='0-1'/><memnode cellid='1' mode='preferred' nodeset='1'/></numatune>",
  );
  assert.equal(s.memoryMiB, 512);
  assert.deepEqual(s.numaCells, [
    { id: 0, vcpus: [0, 1], memoryMiB: 256 },
    { id: 1, vcpus: [2, 3], memoryMiB: 256, hostNodes: [1], mode: 'preferred' },
  ]);
  assert.deepEqual(s.numaTune, { mode: 'interleave', hostNodes: [0, 1] });
});

test('<memnode> without mode binds strictly (libvirt default), whatever <numatune><memory> says', () => {
  const s = spec("<vcpu>2</vcpu><cpu><numa><cell cpus='0-1' memory='256' unit='MiB'/></numa></cpu><numatune><memory mode='preferred' nodeset='0'/><memnode cellid='0' nodeset='1'/></numatune>");
  assert.deepEqual(s.numaCells[0], { id: 0, vcpus: [0, 1], memoryMiB: 256, hostNodes: [1], mode: 'strict' });
});

test('<memoryBacking>: hugepages (default and sized), locked, allocation immediate -> prealloc', () => {
  assert.deepEqual(spec('<memoryBacking><hugepages/></memoryBacking>').memoryBacking, { hugepages: {}, prealloc: false, locked: false });
  assert.deepEqual(spec("<memory unit='GiB'>2</memory><memoryBacking><hugepages><page size='1' unit='G'/></hugepages><locked/><allocation mode='immediate'/></memoryBacking>").memoryBacking, {
    hugepages: { pageSizeKiB: 1048576 },
    prealloc: true,
    locked: true,
  });
  assert.equal(spec("<memoryBacking><allocation mode='ondemand'/></memoryBacking>").memoryBacking.prealloc, false);
});

test("<iothreads> gives libvirt's ids iothread1..N; <iothreadids> chooses ids and the rest are filled from the lowest", () => {
  assert.deepEqual(spec('<iothreads>2</iothreads>').iothreads, ['iothread1', 'iothread2']);
  assert.deepEqual(spec("<iothreads>3</iothreads><iothreadids><iothread id='5'/><iothread id='2'/></iothreadids>").iothreads, ['iothread5', 'iothread2', 'iothread1']);
  assert.deepEqual(spec("<iothreadids><iothread id='7'/></iothreadids>").iothreads, ['iothread7']);
});

test("<cputune>: vcpupin cpuset '1-4,^2' excludes CPU 2; emulatorpin, iothreadpin and the three schedulers", () => {
  const s = spec(
    "<vcpu>2</vcpu><iothreads>1</iothreads><cputune><vcpupin vcpu='1' cpuset='1-4,^2'/><vcpupin vcpu='0' cpuset='0'/><emulatorpin cpuset='5-7,^6'/>" +
      "<iothreadpin iothread='1' cpuset='5,6'/><vcpusched vcpus='0-1' scheduler='rr' priority='5'/><iothreadsched scheduler='idle'/><emulatorsched scheduler='fifo' priority='1'/></cputune>",
  );
  assert.deepEqual(s.tuning, {
    autoPin: false,
    vcpuPins: [
      { vcpu: 0, cpus: [0] },
      { vcpu: 1, cpus: [1, 3, 4] },
    ],
    emulatorPin: [5, 7],
    iothreadPins: [{ iothread: 'iothread1', cpus: [5, 6] }],
    vcpuSched: { policy: 'rr', priority: 5 },
    emulatorSched: { policy: 'fifo', priority: 1 },
    iothreadSched: { policy: 'idle' },
    isolate: false,
    debug: false,
  });
});

test('<vcpu cpuset> pins the vCPUs, the emulator and the iothreads that have no pin of their own', () => {
  const s = spec("<vcpu cpuset='2-3'>2</vcpu><iothreads>1</iothreads><cputune><vcpupin vcpu='1' cpuset='0'/></cputune>");
  assert.deepEqual(s.tuning.vcpuPins, [
    { vcpu: 0, cpus: [2, 3] },
    { vcpu: 1, cpus: [0] },
  ]);
  assert.deepEqual(s.tuning.emulatorPin, [2, 3]);
  assert.deepEqual(s.tuning.iothreadPins, [{ iothread: 'iothread1', cpus: [2, 3] }]);
});

test('<os>: direct kernel boot keeps the command line verbatim; a ROM loader and <boot dev> give firmware boot', () => {
  const k = spec("<os><type>hvm</type><kernel>vmlinuz</kernel><initrd>/boot/initrd.img</initrd><cmdline>console=ttyS0 a=&quot;b c&quot;</cmdline></os>");
  assert.deepEqual(k.boot, { kind: 'kernel', kernel: '/defs/vmlinuz', initrd: '/boot/initrd.img', cmdline: 'console=ttyS0 a="b c"' });
  const f = spec("<os><type>hvm</type><loader readonly='yes' type='rom'>/fw/bios.bin</loader><boot dev='network'/><boot dev='cdrom'/></os>");
  assert.deepEqual(f.boot, { kind: 'firmware', firmware: '/fw/bios.bin', order: ['network', 'cdrom'] });
});

test('per-device <boot order> replaces the implicit boot-from-disk order', () => {
  const s = spec("<devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/a.img'/><target dev='vda' bus='virtio'/><boot order='3'/></disk></devices>");
  assert.deepEqual(s.boot, { kind: 'firmware', order: [] });
  assert.equal(s.disks[0]?.bootIndex, 3);
});

test("a read-only SATA or IDE hard disk is refused: QEMU's ide-hd cannot be read-only", () => {
  const problems = validateDefinition(
    `<domain type='qemu'><name>d</name><memory unit='MiB'>64</memory><os><type>hvm</type></os><devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/a.img'/><target dev='sda' bus='sata'/><readonly/></disk></devices></domain>`,
    { file: 'd.xml', baseDir: '/defs' },
  );
  assert.equal(problems.length, 1);
  assert.match(problems[0]?.message ?? '', /read-only/);
});

test("<disk>: driver type/cache/io/iothread, source file or dev, target bus (or the bus implied by the name), readonly, serial", () => {
  const s = spec(
    '<iothreads>1</iothreads><devices>' +
      "<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none' io='native' iothread='1'/><source file='img/root.qcow2'/><target dev='vda'/><readonly/><serial>S-1</serial></disk>" +
      "<disk type='block' device='disk'><driver name='qemu' type='raw' cache='default' io='default'/><source dev='/dev/sdz'/><target dev='hdb' bus='sata'/></disk>" +
      "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/iso/x.iso'/><target dev='hdc' bus='ide'/></disk>" +
      '</devices>',
  );
  assert.deepEqual(s.disks, [
    { id: 'disk0', path: '/defs/img/root.qcow2', format: 'qcow2', bus: 'virtio', media: 'disk', cache: 'none', aio: 'native', readonly: true, iothread: 'iothread1', serial: 'S-1' },
    { id: 'disk1', path: '/dev/sdz', format: 'raw', bus: 'sata', media: 'disk', readonly: false },
    { id: 'disk2', path: '/iso/x.iso', format: 'raw', bus: 'ide', media: 'cdrom', readonly: true },
  ]);
});

test("<interface type='user'> with portForward, type='ethernet' on an existing tap, rtl8139 when no model is given", () => {
  const s = spec(
    '<devices>' +
      "<interface type='user'><mac address='52:54:00:AA:bb:01'/><model type='virtio'/><portForward proto='tcp' address='127.0.0.1'><range start='2222' to='22'/></portForward></interface>" +
      "<interface type='ethernet'><target dev='tap7' managed='no'/><model type='e1000'/></interface>" +
      "<interface type='user'/>" +
      '</devices>',
  );
  assert.deepEqual(s.nics, [
    { kind: 'user', id: 'net0', model: 'virtio', mac: '52:54:00:aa:bb:01', forwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 2222, guestPort: 22 }] },
    { kind: 'tap', id: 'net1', model: 'e1000', ifname: 'tap7' },
    { kind: 'user', id: 'net2', model: 'rtl8139', forwards: [] },
  ]);
});

test('a portForward without address listens on every host address, as libvirt does', () => {
  const s = spec("<devices><interface type='user'><portForward proto='udp'><range start='53'/></portForward></interface></devices>");
  assert.deepEqual(s.nics[0]?.kind === 'user' ? s.nics[0].forwards : [], [{ protocol: 'udp', hostAddress: '0.0.0.0', hostPort: 53, guestPort: 53 }]);
});

test('<serial>/<console> of type pty (or stdio) give the serial console; none of them gives no serial port', () => {
  assert.deepEqual(spec("<devices><serial type='pty'/></devices>").serial, { mode: 'console' });
  assert.deepEqual(spec("<devices><console type='pty'><target type='serial' port='0'/></console></devices>").serial, { mode: 'console' });
  assert.deepEqual(spec("<devices><serial type='stdio'><target port='0'/></serial></devices>").serial, { mode: 'console' });
  assert.deepEqual(spec("<devices><serial type='pty'><source path='/dev/pts/4'/></serial><console type='pty'><source path='/dev/pts/4'/><target type='serial'/></console></devices>").serial, {
    mode: 'console',
  });
  assert.deepEqual(spec('<devices/>').serial, { mode: 'none' });
});

test("<graphics type='vnc'> with a fixed port gives display port-5900; listen from the attribute or <listen>", () => {
  assert.deepEqual(spec("<devices><graphics type='vnc' port='5901'/></devices>").graphics, { type: 'vnc', listen: '127.0.0.1', display: 1 });
  assert.deepEqual(spec("<devices><graphics type='vnc' port='5900' autoport='no' listen='0.0.0.0'><listen type='address' address='0.0.0.0'/></graphics><video><model type='vga'/></video></devices>").graphics, {
    type: 'vnc',
    listen: '0.0.0.0',
    display: 0,
  });
});

test('<memballoon>, <rng> and <hostdev> become the balloon, rngs and hostdevs; memballoon none is no balloon', () => {
  const none = spec("<devices><memballoon model='none'/></devices>");
  assert.equal(none.balloon, undefined);
  assert.deepEqual(none.qemuArgs, []);
  const s = spec(
    "<devices><rng model='virtio'><backend model='random'>/dev/hw,rng</backend></rng><rng model='virtio'><backend model='random'/></rng><memballoon model='virtio'/>" +
      "<hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x3' slot='0x1f' function='0x7'/></source></hostdev></devices>",
  );
  assert.deepEqual(s.rngs, [{ backend: 'random', source: '/dev/hw,rng' }, { backend: 'random', source: '/dev/random' }], "an empty <backend model='random'/> is libvirt's /dev/random");
  assert.deepEqual(s.hostdevs, [{ host: '0000:03:1f.7' }]);
  assert.deepEqual(s.balloon, { autodeflate: false, freePageReporting: false });
  assert.deepEqual(s.qemuArgs, []);
});

test('on microvm the balloon is a virtio-mmio device', () => {
  const s = spec("<os><type machine='microvm'>hvm</type></os>");
  assert.ok(s.balloon !== undefined);
  const argv = buildArgv(s, argvContext());
  assert.equal(argv[argv.indexOf('virtio-balloon-device,id=balloon0') - 1], '-device');
});

test('<qemu:commandline>: every <qemu:arg> in order, across several blocks, after the devices; <qemu:env> sets the environment', () => {
  const s = spec(
    "<devices><memballoon model='none'/></devices><qemu:commandline><qemu:arg value='-set'/><qemu:arg value='device.disk0.scsi=off'/><qemu:env name='A_B' value='1'/></qemu:commandline>" +
      "<qemu:commandline><qemu:arg value='-global'/><qemu:arg value='kvm-pit.lost_tick_policy=discard'/><qemu:env name='EMPTY'/></qemu:commandline>",
    { ns: true },
  );
  assert.deepEqual(s.qemuArgs, ['-set', 'device.disk0.scsi=off', '-global', 'kvm-pit.lost_tick_policy=discard']);
  assert.deepEqual(s.process.env, { A_B: '1', EMPTY: '' });
});

test('on_poweroff, on_reboot and on_crash become the lifecycle policies; the missing ones take libvirt\'s defaults', () => {
  assert.deepEqual(spec('<on_poweroff>preserve</on_poweroff><on_reboot>destroy</on_reboot><on_crash>restart</on_crash>').lifecycle, {
    onPoweroff: 'preserve',
    onReboot: 'destroy',
    onCrash: 'restart',
  });
  assert.deepEqual(spec('<on_crash>preserve</on_crash>').lifecycle, { onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'preserve' });
  assert.equal(spec('').lifecycle, undefined, 'no on_* elements: the daemon\'s record decides');
});

test('controllers that match what vmkit builds anyway are accepted and produce nothing', () => {
  const s = spec(
    "<devices><controller type='pci' index='0' model='pcie-root'/><controller type='usb' model='none'/><controller type='sata' index='0'><address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/></controller>" +
      "<controller type='scsi' index='0' model='virtio-scsi'/><input type='mouse' bus='ps2'/><input type='keyboard'/></devices>",
  );
  assert.deepEqual(s.disks, []);
  assert.equal(s.controllers, undefined, "q35's own root and SATA, no USB, and the SCSI controller vmkit adds for SCSI disks are not recorded");
  const pc = spec(
    "<os><type machine='pc'>hvm</type></os><devices><controller type='pci' index='0' model='pci-root'/><controller type='ide' index='0'><address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x1'/></controller></devices>",
  );
  assert.equal(pc.controllers, undefined, "pc's own root bus and PIIX3 IDE are built in");
});

test('vmkit metadata carries what libvirt cannot say: accel auto, user/group, clear-env, tuning switches, hugepage path, iothread names, boot mode', () => {
  const s = spec(
    "<metadata><vmkit:domain xmlns:vmkit='urn:vmkit:libvirt-metadata:v1'><vmkit:accel>auto</vmkit:accel><vmkit:emulator>qemu-kvm</vmkit:emulator>" +
      "<vmkit:process user='qemu' group='64055' clear-env='yes'/><vmkit:tuning pinning='auto' isolate='yes' debug='yes' rlimit-memlock='unlimited' emulator-scheduler='other'/>" +
      "<vmkit:hugepages path='huge'/><vmkit:iothread id='1' name='fast'/><vmkit:boot mode='unset'/></vmkit:domain></metadata>" +
      '<iothreads>1</iothreads><memoryBacking><hugepages/></memoryBacking>',
  );
  assert.equal(s.machine.accel, 'auto');
  assert.equal(s.emulator, 'qemu-kvm');
  assert.deepEqual(s.process, { user: 'qemu', group: 64055, env: {}, clearEnv: true });
  assert.deepEqual(s.tuning, { autoPin: true, vcpuPins: [], iothreadPins: [], emulatorSched: { policy: 'other' }, rlimitMemlock: 'unlimited', isolate: true, debug: true });
  assert.deepEqual(s.memoryBacking.hugepages, { path: '/defs/huge' });
  assert.deepEqual(s.iothreads, ['fast']);
  assert.equal(s.boot, undefined);
});

test('comments, processing instructions, CDATA and a BOM are fine', () => {
  const s = parseLibvirtXml(
    "\uFEFF<?xml version='1.0' encoding='UTF-8'?>\n<!-- c -->\n<domain type='kvm'><name><![CDATA[cd]]></name><?pi x?><memory>65536</memory>" + `${OS}</domain>`,
    { baseDir: '/' },
  );
  assert.deepEqual(s.problems, []);
  assert.equal(s.spec?.name, 'cd');
});
