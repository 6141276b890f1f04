/**
 * Problems in libvirt domain XML: malformed documents, bad values and everything vmkit does not support, each
 * with the XML path and line:col; `lenient` turns unsupported parts into warnings.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDefinition, parseLibvirtXml, validateDefinition } from '../../src/config/index.js';
import { ConfigError, formatProblem, type Problem } from '../../src/errors.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/libvirt/', import.meta.url));
const OS = "<os><type machine='q35'>hvm</type></os>";

function problems(xml: string): readonly Problem[] {
  return validateDefinition(xml, { file: 'vm.xml', baseDir: '/defs' });
}

function only(xml: string): Problem {
  const ps = problems(xml);
  assert.equal(ps.length, 1, `expected one problem, got:\n${ps.map(formatProblem).join('\n')}`);
  return ps[0] as Problem;
}

/** `line:col path` */
function where(p: Problem): string {
  return `${p.line ?? '?'}:${p.col ?? '?'} ${p.path}`;
}

function domain(body: string): string {
  return `<domain type='kvm'>\n  <name>t</name>\n  <memory unit='MiB'>256</memory>\n  ${OS}\n${body}\n</domain>\n`;
}

test('every problem of a domain is reported at once, each with file, line:col and XML path', () => {
  const file = join(FIXTURES, 'problem-many.xml');
  const ps = validateDefinition(readFileSync(file, 'utf8'), { file, baseDir: FIXTURES });
  assert.ok(ps.every((p) => p.file === file));
  assert.deepEqual(ps.map(where), [
    '2:9 /domain/name',
    '3:9 /domain/uuid',
    '4:10 /domain/title',
    '6:11 /domain/memory/@unit',
    '7:9 /domain/vcpu/@current',
    '12:5 /domain/os/boot',
    '14:10 /domain/clock/@offset',
    '16:14 /domain/cputune/vcpupin[1]/@vcpu',
    '17:23 /domain/cputune/vcpupin[2]/@cpuset',
    '18:18 /domain/cputune/iothreadpin/@iothread',
    '21:5 /domain/devices/disk[1]',
    '26:56 /domain/devices/disk[2]/driver/@io',
    '30:16 /domain/devices/interface[1]/@type',
    '34:12 /domain/devices/interface[2]/mac/@address',
    '37:5 /domain/devices/smartcard',
    '41:15 /domain/qemu:commandline/qemu:arg[2]/@value',
  ]);
  const at = (path: string): Problem | undefined => ps.find((p) => p.path === path);
  assert.match(at('/domain/devices/disk[1]')?.message ?? '', /image format is missing.*libvirt would probe it; vmkit never guesses a format/);
  assert.match(at('/domain/devices/smartcard')?.message ?? '', /<smartcard> in <devices> is not supported/);
  assert.match(at('/domain/memory/@unit')?.message ?? '', /Unknown size unit/);
  assert.equal(at('/domain/memory/@unit')?.found, '"GiBs"');
  assert.equal(at('/domain/qemu:commandline/qemu:arg[2]/@value')?.expected, 'device.disk0.scsi=off');
  assert.match(at('/domain/devices/disk[2]/driver/@io')?.message ?? '', /aio native needs O_DIRECT/);
  assert.equal(at('/domain/cputune/vcpupin[1]/@vcpu')?.message, 'vCPU 4 does not exist: the guest has 2 vCPU(s), numbered 0-1');
});

test('parseDefinition() throws a ConfigError with the same problems', () => {
  assert.throws(
    () => parseDefinition(domain('<smartcard/>'), { file: 'vm.xml', baseDir: '/' }),
    (e: unknown) => e instanceof ConfigError && e.problems.length === 1 && /vm\.xml:5:1: \/domain\/smartcard: <smartcard> in <domain> is not supported/.test(e.message),
  );
});

test('XML that is not well-formed is one problem at the line and column where it breaks', () => {
  const p = only("<domain type='kvm'>\n  <name>a</nam>\n</domain>");
  assert.equal(where(p), '2:10 ');
  assert.match(p.message, /^The XML is not well-formed: /);
  assert.equal(where(only("<domain type='kvm'>\n  <name a='1' a='2'>x</name>\n</domain>")).split(' ')[0]?.split(':')[0], '2');
  assert.equal(where(only("<domain type='kvm'>\n  <devices>\n")), '2:3 ');
  assert.match(only("<domain type='kvm'>\n<name>&undefined;</name></domain>").message, /not well-formed/);
  assert.match(only("<domain type='kvm'><qemu:commandline/></domain>").message, /not well-formed.*prefix/i);
});

test('a DOCTYPE (entity declarations) is refused', () => {
  const p = only("<!DOCTYPE domain [<!ENTITY big 'xxxx'>]>\n<domain type='kvm'><name>&big;</name></domain>");
  assert.match(p.message, /DOCTYPE is not allowed/);
  assert.equal(p.line, 1);
});

test('the root element must be <domain>', () => {
  const p = only("<?xml version='1.0'?>\n<network>\n  <name>default</name>\n</network>");
  assert.equal(where(p), '2:1 /network');
  assert.equal(p.expected, '<domain>');
  assert.equal(p.found, '<network>');
});

test('bad memory values: not a number, a fraction, zero, an unknown unit', () => {
  assert.equal(where(only("<domain type='kvm'><name>t</name><memory>1.5</memory>" + OS + '</domain>')), '1:42 /domain/memory');
  assert.match(only("<domain type='kvm'><name>t</name><memory unit='MiB'>0</memory>" + OS + '</domain>').message, /A size of 0/);
  const unit = only("<domain type='kvm'><name>t</name><memory unit='parsecs'>4</memory>" + OS + '</domain>');
  assert.equal(where(unit), '1:42 /domain/memory/@unit');
  assert.match(only("<domain type='kvm'><name>t</name><memory unit='MiB'>8</memory>" + OS + '</domain>').message, /at least 16 MiB/);
});

test('required parts: type, name, memory, os, and a known domain type', () => {
  assert.match(only(`<domain><name>t</name><memory>65536</memory>${OS}</domain>`).message, /needs type='kvm' or type='qemu'/);
  assert.match(only(`<domain type='xen'><name>t</name><memory>65536</memory>${OS}</domain>`).message, /vmkit runs QEMU guests: type='xen'/);
  assert.match(only(`<domain type='kvm'><memory>65536</memory>${OS}</domain>`).message, /<name> is missing/);
  assert.match(only(`<domain type='kvm'><name>t</name>${OS}</domain>`).message, /<memory> is missing/);
  assert.match(only("<domain type='kvm'><name>t</name><memory>65536</memory></domain>").message, /<os> is missing/);
  assert.match(only("<domain type='kvm'><name>t</name><name>u</name><memory>65536</memory>" + OS + '</domain>').message, /<name> may appear only once/);
});

test('disks: format required, a source required, block devices under /dev, SCSI needs virtio-scsi, iothreads exist, no boot order with <os><boot>', () => {
  const disk = (inner: string, attrs = "type='file' device='disk'"): string => domain(`<devices><disk ${attrs}>${inner}</disk></devices>`);
  const noDriverType = only(disk("<driver name='qemu'/><source file='/a.img'/><target dev='vda' bus='virtio'/>"));
  assert.equal(noDriverType.path, '/domain/devices/disk/driver/@type');
  assert.match(noDriverType.message, /vmkit never guesses a format/);
  assert.match(only(disk("<driver type='raw'/><target dev='vda' bus='virtio'/>")).message, /needs <source file='...'>/);
  assert.match(only(disk("<driver type='raw'/><source dev='/srv/x.img'/><target dev='vda'/>", "type='block'")).message, /only paths under \/dev as block devices/);
  assert.match(only(disk("<driver type='raw'/><source file='/dev/sdb'/><target dev='vda'/>")).message, /use type='block'/);
  const scsi = only(disk("<driver type='raw'/><source file='/a.img'/><target dev='sda' bus='scsi'/>"));
  assert.equal(scsi.path, '/domain/devices/disk/target/@bus');
  assert.match(scsi.message, /default SCSI controller \(lsilogic\).*model='virtio-scsi'/);
  assert.match(only(disk("<driver type='raw' iothread='3'/><source file='/a.img'/><target dev='vda'/>")).message, /There is no iothread 3: the domain has no <iothreads>/);
  assert.match(only(disk("<driver type='raw'/><source file='/a.img'/><target dev='vda'/><boot order='1'/>").replace('<type', "<boot dev='hd'/><type")).message, /cannot be combined with <os><boot dev>/);
  assert.match(only(disk("<driver type='raw'/><source file='/a.img'/><target dev='floppy0'/>")).message, /Not a disk device name/);
  assert.match(only(domain("<devices><disk type='file'><driver type='raw'/><source file='/a'/><target dev='vda'/></disk><disk type='file'><driver type='raw'/><source file='/b'/><target dev='vda'/></disk></devices>")).message, /Target vda is already used/);
  assert.match(only(disk("<driver type='qcow3'/><source file='/a.img'/><target dev='vda'/>")).message, /did you mean `qcow2`/);
  assert.match(only(disk("<driver type='raw'/><source file='/a.iso'/><target dev='vda' bus='virtio'/>", "type='file' device='cdrom'")).message, /A cdrom cannot be on the virtio bus/);
});

test('things vmkit cannot do yet are rejected with the element path and line, never dropped', () => {
  const cases: [string, string, RegExp][] = [
    ["<devices><interface type='network'><source network='default' portgroup='web'/></interface></devices>", '/domain/devices/interface/source/@portgroup', /Network portgroups are applied by libvirtd/],
    ["<devices><interface type='direct'><source dev='eth0' mode='bridge'/></interface></devices>", '/domain/devices/interface/@type', /type 'direct' are not supported: macvtap/],
    ["<devices><disk type='network' device='disk'><source protocol='nbd'/></disk></devices>", '/domain/devices/disk/@type', /type 'network' are not supported yet/],
    ["<devices><disk type='file' device='cdrom'><driver type='raw'/><target dev='sda' bus='sata'/></disk></devices>", '/domain/devices/disk', /empty CD-ROM/],
    ["<devices><graphics type='spice' port='5900'/></devices>", '/domain/devices/graphics/@type', /Graphics type spice/],
    ["<devices><serial type='tcp'><source mode='bind' host='0.0.0.0' service='4555'/></serial></devices>", '/domain/devices/serial/@type', /type 'tcp' is not supported yet \(use type='unix'/],
    ["<devices><controller type='usb' index='0' model='vt82c686b-uhci'/></devices>", '/domain/devices/controller/@model', /USB controller model vt82c686b-uhci is not supported yet/],
    ["<devices><controller type='pci' index='1' model='pcie-expander-bus'/></devices>", '/domain/devices/controller/@model', /PCI controller model pcie-expander-bus is not supported/],
    ["<devices><controller type='ide' index='0'/></devices>", '/domain/devices/controller', /q35 has no IDE controller/],
    ["<devices><memballoon model='virtio'><address type='ccw' cssid='0xfe' ssid='0x0' devno='0x0001'/></memballoon></devices>", '/domain/devices/memballoon/address', /address of type 'ccw' is not supported/],
    ["<devices><serial type='pty'><address type='isa' iobase='0x3f8'/></serial></devices>", '/domain/devices/serial/address', /<address> in <serial> is not supported/],
    ["<seclabel type='static' model='selinux' relabel='no'><label>system_u:system_r:svirt_t:s0:c1,c2</label></seclabel>", '/domain/seclabel/@type', /static security label is not applied by vmkit/],
    ["<resource><partition>/production</partition></resource>", '/domain/resource/partition', /cgroup partitions/],
    ["<devices><audio id='1' type='pulseaudio'/></devices>", '/domain/devices/audio/@type', /no sound device/],
    ["<devices><channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/><address type='virtio-serial' controller='0' bus='0' port='1'/></channel></devices>", '/domain/devices/channel', /<channel>s are not supported yet \(org.qemu.guest_agent.0\)/],
    ["<clock><timer name='tsc' frequency='1000000000'/></clock>", '/domain/clock/timer', /The timer 'tsc' is not supported yet/],
    ["<clock><timer name='rtc' tickpolicy='merge'/></clock>", '/domain/clock/timer/@tickpolicy', /tickpolicy='merge' for the rtc is not supported/],
    ["<clock><timer name='pit' present='no'/></clock>", '/domain/clock/timer/@present', /cannot be removed/],
    ["<clock offset='timezone' timezone='Europe/Paris'/>", '/domain/clock/@offset', /offset='timezone' is not supported yet/],
    ["<clock offset='localtime' adjustment='reset'/>", '/domain/clock/@adjustment', /adjustment only applies to offset='variable'/],
    ['<features><hyperv/></features>', '/domain/features/hyperv', /The feature <hyperv> is not supported yet/],
    ["<cpu mode='custom'><model>Skylake-Client</model><feature policy='optional' name='vmx'/></cpu>", '/domain/cpu/feature/@policy', /policy='optional' lets libvirt decide/],
    ['<on_poweroff>rename-restart</on_poweroff>', '/domain/on_poweroff', /rename-restart<\/on_poweroff> is not supported/],
    ['<on_crash>coredump-destroy</on_crash>', '/domain/on_crash', /vmkit does not dump guest memory; use destroy/],
    ["<currentMemory unit='MiB'>128</currentMemory><devices><memballoon model='none'/></devices>", '/domain/currentMemory', /needs <memballoon model='virtio'>/],
    ["<vcpu placement='auto'>2</vcpu>", '/domain/vcpu/@placement', /numad/],
    ["<cputune><shares>1024</shares></cputune>", '/domain/cputune/shares', /CPU bandwidth control/],
    ["<devices><rng model='virtio'><backend model='egd' type='tcp'/></rng></devices>", '/domain/devices/rng/backend/@model', /RNG backend egd/],
    ["<devices><disk type='file' snapshot='no'><driver type='raw'/><source file='/a'/><target dev='vda'/></disk></devices>", '/domain/devices/disk/@snapshot', /The attribute snapshot of <disk> is not supported/],
    ['<pm><suspend-to-mem enabled=\'no\'/></pm>', '/domain/pm', /<pm> in <domain> is not supported/],
    ["<metadata><libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'/></metadata>", '/domain/metadata/libosinfo:libosinfo', /not supported/],
    ["<os><type>hvm</type><loader type='pflash' secure='yes'>/usr/share/OVMF/OVMF_CODE.secboot.fd</loader><nvram>/var/x.fd</nvram></os>", '/domain/os/loader/@secure', /Secure boot/],
    ["<os><type>hvm</type><loader type='pflash' format='qcow2'>/usr/share/OVMF/OVMF_CODE.qcow2</loader></os>", '/domain/os/loader/@format', /qcow2 firmware images/],
  ];
  for (const [body, path, message] of cases) {
    const xml = body.includes('<os>') ? `<domain type='kvm'>\n  <name>t</name>\n  <memory unit='MiB'>256</memory>\n${body}\n</domain>\n` : domain(body);
    const ps = problems(xml);
    const p = ps.find((x) => x.path === path);
    assert.ok(p !== undefined, `${body}: expected a problem at ${path}, got:\n${ps.map(formatProblem).join('\n')}`);
    assert.match(p.message, message, body);
    assert.ok(p.line !== undefined && p.line >= 4, `${body}: has a line`);
  }
});

test('lenient import turns unsupported parts into warnings and leaves them out; invalid values stay problems', () => {
  const xml = domain(
    "<on_lockfailure>poweroff</on_lockfailure><features><acpi/></features>\n<clock offset='utc'><timer name='tsc' mode='native'/></clock>\n<devices>\n" +
      "<interface type='direct'><source dev='eth0' mode='bridge'/><model type='virtio'/></interface>\n" +
      "<interface type='user'><model type='virtio'/></interface>\n<sound model='ich9'/>\n</devices>",
  );
  const strict = parseLibvirtXml(xml, { file: 'vm.xml', baseDir: '/' });
  assert.equal(strict.problems.length, 4);
  assert.deepEqual(strict.warnings, []);
  const lenient = parseLibvirtXml(xml, { file: 'vm.xml', baseDir: '/', lenient: true });
  assert.deepEqual(lenient.problems, []);
  assert.deepEqual(lenient.warnings.map(where), ['6:21 /domain/clock/timer', '5:1 /domain/on_lockfailure', '8:12 /domain/devices/interface[1]/@type', '10:1 /domain/devices/sound']);
  assert.ok(lenient.warnings.every((w) => w.message.endsWith('(ignored: lenient import)')));
  assert.deepEqual(lenient.spec?.nics, [{ kind: 'user', id: 'net0', model: 'virtio', forwards: [] }], 'the macvtap interface is left out; the user one is net0');

  const invalid = parseLibvirtXml(domain("<devices><interface type='user'><model type='ne2k'/></interface></devices>"), { baseDir: '/', lenient: true });
  assert.equal(invalid.problems.length, 1, 'an invalid value is not "unsupported"');
  assert.equal(invalid.problems[0]?.path, '/domain/devices/interface/model/@type');
});

test('tuning problems: pins of missing vCPUs or iothreads, partial schedulers, priorities, auto pinning with explicit pins', () => {
  assert.match(only(domain("<cputune><vcpusched scheduler='fifo'/></cputune>")).message, /fifo policy needs a priority/);
  assert.equal(only(domain("<cputune><vcpusched scheduler='batch' priority='5'/></cputune>")).path, '/domain/cputune/vcpusched/@priority');
  assert.match(only(domain("<cputune><vcpusched scheduler='deadline'/></cputune>")).message, /Unknown value for scheduler/);
  assert.match(only(domain("<vcpu>2</vcpu><cputune><vcpusched vcpus='0' scheduler='rr' priority='1'/></cputune>")).message, /some vCPUs only/);
  assert.match(only(domain("<cputune><iothreadsched scheduler='idle'/></cputune>")).message, /no iothreads to schedule/);
  assert.match(only(domain("<cputune><vcpupin vcpu='0' cpuset='0'/><vcpupin vcpu='0' cpuset='1'/></cputune>")).message, /already pinned/);
  assert.match(
    only(domain("<metadata><vmkit:domain xmlns:vmkit='urn:vmkit:libvirt-metadata:v1'><vmkit:tuning pinning='auto'/></vmkit:domain></metadata><cputune><emulatorpin cpuset='0'/></cputune>")).message,
    /pinning='auto'/,
  );
  assert.match(only(domain("<vcpu>2</vcpu><cpu><topology sockets='1' cores='3' threads='1'/></cpu>")).message, /topology does not match the vCPU count/);
});

test('NUMA problems: cell ids out of order, a vCPU in no cell, a memnode for a missing cell', () => {
  const numa = (cells: string, extra = ''): string =>
    `<domain type='kvm'><name>t</name><vcpu>2</vcpu>${OS}<cpu><numa>${cells}</numa></cpu>${extra}</domain>`;
  assert.match(only(numa("<cell id='1' cpus='0-1' memory='65536'/>")).message, /NUMA cell ids must be 0, 1, 2/);
  assert.match(only(numa("<cell cpus='0' memory='65536'/>")).message, /vCPU\(s\) 1 are in no NUMA cell/);
  assert.match(only(numa("<cell cpus='0-1' memory='65536'/>", "<numatune><memnode cellid='3' nodeset='0'/></numatune>")).message, /There is no guest NUMA cell 3/);
});

test('qemu:commandline arguments that vmkit manages are refused like native qemu_args', () => {
  const p = only(
    `<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>t</name><memory>65536</memory>${OS}<qemu:commandline><qemu:arg value='-daemonize'/></qemu:commandline></domain>`,
  );
  assert.equal(p.path, '/domain/qemu:commandline/qemu:arg/@value');
  assert.match(p.message, /-daemonize is managed by vmkit/);
});

test('text where none belongs and unknown attributes are reported too', () => {
  assert.match(only(domain('<features><acpi>yes</acpi></features>')).message, /<acpi> takes no text here/);
  assert.equal(only(domain("<features><acpi state='on'/></features>")).path, '/domain/features/acpi/@state');
});
