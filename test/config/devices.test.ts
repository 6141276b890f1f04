/**
 * Devices beyond disks and plain NICs, in both formats: bridge and assigned (hostdev) NICs with boot order
 * and MTU, serial ports to a file or a unix socket, VNC on an automatic port, the balloon, RNGs and PCI host
 * devices. Values, the argv they give, and the problems bad values give (with line:col in either format).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDefinition, validateDefinition } from '../../src/config/index.js';
import { exportLibvirtXml } from '../../src/config/libvirt/index.js';
import { ConfigError, formatProblem, type Problem } from '../../src/errors.js';
import type { DomainSpec } from '../../src/model/domain.js';
import { definitionLocator, validateAgainstCaps, type QemuCaps } from '../../src/host/caps/index.js';
import { buildArgv } from '../../src/qemu/argv/index.js';
import { recordedCaps } from '../host/helpers.js';
import { argvContext } from '../qemu/fixtures.js';
import { where } from './helpers.js';

function yaml(text: string): DomainSpec {
  return parseDefinition(`name: d\n${text}`, { file: 'vm.yaml', baseDir: '/defs' });
}

function xml(devices: string, os = "<os><type machine='q35'>hvm</type></os>"): string {
  return `<domain type='kvm'>\n<name>d</name>\n<memory unit='MiB'>256</memory>\n${os}\n<devices>\n${devices}\n</devices>\n</domain>\n`;
}

function fromXml(devices: string, os?: string): DomainSpec {
  return parseDefinition(xml(devices, os), { file: 'vm.xml', baseDir: '/defs' });
}

function problems(text: string, file: string): readonly Problem[] {
  return validateDefinition(text, { file, baseDir: '/defs' });
}

function only(text: string, file = 'vm.yaml'): Problem {
  const ps = problems(text, file);
  assert.equal(ps.length, 1, `expected one problem, got:\n${ps.map(formatProblem).join('\n')}`);
  return ps[0] as Problem;
}

function argvOf(spec: DomainSpec): string[] {
  return buildArgv(spec, argvContext());
}

/** The value after the first `opt` whose value starts with `prefix`. */
function optValue(argv: readonly string[], opt: string, prefix: string): string | undefined {
  for (let i = 0; i < argv.length - 1; i++) if (argv[i] === opt && (argv[i + 1] as string).startsWith(prefix)) return argv[i + 1];
  return undefined;
}

describe('NICs on a host bridge and assigned NICs', () => {
  test("type bridge is QEMU's bridge helper (-netdev bridge,br=...), with its default helper binary", () => {
    const s = yaml('nics: [{type: bridge, bridge: br0, mac: "52:54:00:AA:00:01", mtu: 1500}]');
    assert.deepEqual(s.nics, [{ kind: 'bridge', id: 'net0', model: 'virtio', mac: '52:54:00:aa:00:01', mtu: 1500, bridge: 'br0' }]);
    const argv = argvOf(s);
    assert.equal(optValue(argv, '-netdev', 'bridge'), 'bridge,id=net0,br=br0');
    assert.equal(optValue(argv, '-device', 'virtio-net-pci'), 'virtio-net-pci,netdev=net0,id=net0,mac=52:54:00:aa:00:01,host_mtu=1500');
  });

  test('type hostdev is one vfio-pci device with the NIC id and no netdev; the PCI address is normalised', () => {
    const s = yaml('boot: {order: []}\nnics: [{type: hostdev, host: "03:10.2", boot_index: 4}]');
    assert.deepEqual(s.nics, [{ kind: 'hostdev', id: 'net0', model: 'vfio-pci', host: '0000:03:10.2', bootIndex: 4 }]);
    const argv = argvOf(s);
    assert.equal(optValue(argv, '-device', 'vfio-pci'), 'vfio-pci,host=0000:03:10.2,id=net0,bootindex=4');
    assert.equal(argv.includes('-netdev'), false);
  });

  test('per-NIC boot_index becomes bootindex= and shares the numbering with disks', () => {
    const s = yaml('disks: [{path: /a.img, format: raw, boot_index: 2}]\nnics: [{type: user, boot_index: 1}]');
    const argv = argvOf(s);
    assert.match(optValue(argv, '-device', 'virtio-net-pci') ?? '', /,bootindex=1$/);
    assert.match(optValue(argv, '-device', 'virtio-blk-pci') ?? '', /bootindex=2/);
  });

  test('libvirt <interface type=bridge|hostdev> with <boot order>, <mtu> and <link state=up> reads into the same spec', () => {
    const s = fromXml(
      "<interface type='bridge'><source bridge='br0'/><model type='virtio'/><mtu size='1500'/><link state='up'/><boot order='1'/></interface>" +
        "<interface type='hostdev' managed='no'><source><address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x2'/></source></interface>",
    );
    assert.deepEqual(s.nics, [
      { kind: 'bridge', id: 'net0', model: 'virtio', bootIndex: 1, mtu: 1500, bridge: 'br0' },
      { kind: 'hostdev', id: 'net1', model: 'vfio-pci', host: '0000:03:10.2' },
    ]);
    assert.deepEqual(s.boot, { kind: 'firmware', order: [] }, "per-device boot order replaces libvirt's implicit boot from hd");
  });

  test("a libvirt network NIC (type='network' / type: network) is a bridge netdev on the network's bridge, looked up at start", () => {
    const s = yaml('nics: [{type: network, network: default, mac: "52:54:00:AA:00:02", boot_index: 2}]');
    const expected = [{ kind: 'network', id: 'net0', model: 'virtio', mac: '52:54:00:aa:00:02', bootIndex: 2, network: 'default' }];
    assert.deepEqual(s.nics, expected);
    const x = fromXml("<interface type='network'><mac address='52:54:00:aa:00:02'/><source network='default'/><model type='virtio'/><boot order='2'/></interface>");
    assert.deepEqual(x.nics, expected);
    const argv = buildArgv(s, { ...argvContext(), networkBridges: new Map([['net0', 'virbr0']]) });
    assert.equal(optValue(argv, '-netdev', 'bridge'), 'bridge,id=net0,br=virbr0');
    assert.equal(optValue(argv, '-device', 'virtio-net-pci'), 'virtio-net-pci,netdev=net0,id=net0,mac=52:54:00:aa:00:02,bootindex=2');
    // The bridge is a host fact: an argv written without looking it up names the field instead of guessing.
    assert.throws(() => argvOf(s), (e: unknown) => e instanceof ConfigError && e.problems[0]?.path === 'nics[0].network');
    const back = exportLibvirtXml(x);
    assert.match(back, /<interface type='network'>\s*<mac address='52:54:00:aa:00:02'\/>\s*<source network='default'\/>\s*<model type='virtio'\/>\s*<boot order='2'\/>/);
    assert.deepEqual(parseDefinition(back, { file: 'back.xml', baseDir: '/defs' }).nics, expected, 'exported XML reads back into the same NIC');
  });

  test('problems of network NICs name the element or key, line and column', () => {
    const missing = only(xml("<interface type='network'><model type='virtio'/></interface>"), 'vm.xml');
    assert.equal(where(missing), '6:1 /domain/devices/interface');
    assert.match(missing.message, /needs the libvirt network: <source network='default'\/>/);
    const target = only(xml("<interface type='network'><source network='default'/><target dev='vnet0'/></interface>"), 'vm.xml');
    assert.match(target.message, /bridge helper creates and names the tap device itself/);
    const bad = only('name: d\nnics: [{type: network, network: "../etc"}]\n');
    assert.equal(bad.path, 'nics[0].network');
    assert.match(bad.expected ?? bad.message, /a name of 1-64 letters/);
    const none = only('name: d\nnics: [{type: network}]\n');
    assert.match(`${none.path} ${none.message}`, /nics\[0\].*network/);
  });

  test('problems of bridge and hostdev interfaces name the element, line and column', () => {
    const cases: [string, string, RegExp][] = [
      ["<interface type='bridge'><model type='virtio'/></interface>", '6:1 /domain/devices/interface', /needs the host bridge: <source bridge='br0'\/>/],
      ["<interface type='bridge'><source bridge='br0'/><target dev='vnet0'/></interface>", '6:48 /domain/devices/interface/target', /bridge helper creates and names the tap device itself/],
      ["<interface type='hostdev' managed='maybe'><source><address type='pci' bus='0x03' slot='0x10' function='0x2'/></source></interface>", '6:27 /domain/devices/interface/@managed', /Unknown value for managed/],
      [
        "<interface type='user'><address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/></interface>",
        '6:24 /domain/devices/interface/address',
        /There is no PCI bus 05/,
      ],
      ["<interface type='hostdev' managed='no'><source><address type='pci' bus='0x03' slot='0x20' function='0x2'/></source></interface>", '6:79 /domain/devices/interface/source/address/@slot', /Invalid PCI slot/],
      ["<interface type='user'><link state='down'/></interface>", '6:30 /domain/devices/interface/link/@state', /link that starts down is not supported yet/],
      ["<interface type='user'><model type='e1000'/><mtu size='9000'/></interface>", '6:50 /domain/devices/interface/mtu/@size', /Only virtio NICs can be told an MTU; this NIC's model is e1000/],
      ["<interface type='user'><mac address='52:54:00:zz:00:01'/></interface>", '6:29 /domain/devices/interface/mac/@address', /MAC/],
    ];
    for (const [devices, at, message] of cases) {
      const p = only(xml(devices), 'vm.xml');
      assert.equal(where(p), at, devices);
      assert.match(`${p.message} (expected ${p.expected ?? '-'})`, message, devices);
    }
  });

  test('bad MACs, PCI addresses, duplicate devices and boot indexes in YAML, each at its line:col', () => {
    const cases: [string, string, RegExp][] = [
      ['nics: [{type: bridge, bridge: br0, mac: "52:54:00:00:00:0g"}]', '2:41 nics[0].mac', /MAC address/],
      ['nics: [{type: hostdev, host: "0000:03:10"}]', '2:30 nics[0].host', /PCI address/],
      ['hostdevs: [{host: "00:20.0"}]', '2:19 hostdevs[0].host', /PCI address/],
      ['nics: [{type: hostdev, host: "03:10.2"}]\nhostdevs: [{host: "0000:03:10.2"}]', '3:19 hostdevs[0].host', /PCI device 0000:03:10.2 is already assigned by nics\[0\]/],
      ['boot: {order: [disk]}\nnics: [{type: user, boot_index: 1}]', '3:33 nics[0].boot_index', /either boot.order or per-device boot_index/],
      ['disks: [{path: /a, format: raw, boot_index: 1}]\nhostdevs: [{host: "00:07.0", boot_index: 1}]', '3:42 hostdevs[0].boot_index', /boot_index 1 is already used by disks\[0\]/],
      ['boot: {kernel: /k}\nnics: [{type: user, boot_index: 1}]', '3:33 nics[0].boot_index', /only applies to firmware boot/],
      ['nics: [{type: tap, ifname: tap0, model: e1000, mtu: 1500}]', '2:53 nics[0].mtu', /Only virtio NICs/],
      ['nics: [{type: hostdev, host: "03:10.2", mac: "52:54:00:00:00:01", boot: 1}]', '2:67 nics[0].boot', /Unknown key `boot`/],
      ['nics: [{type: user, address: "pci:0000:09:00.0"}]', '2:30 nics[0].address', /There is no PCI bus 09/],
    ];
    for (const [text, at, message] of cases) {
      const p = only(`name: d\n${text}`);
      assert.equal(where(p), at, text);
      assert.match(`${p.message} (expected ${p.expected ?? '-'})`, message, text);
    }
  });
});

describe('serial port backends', () => {
  test('serial to a file: chardev file with the path comma-escaped, append=on when asked; relative paths resolved', () => {
    const s = yaml('serial: {type: file, path: "logs/ser,ial.log", append: true}');
    assert.deepEqual(s.serial, { mode: 'file', path: '/defs/logs/ser,ial.log', append: true });
    const argv = argvOf(s);
    assert.equal(optValue(argv, '-chardev', 'file'), 'file,id=serial0,path=/defs/logs/ser,,ial.log,append=on');
    assert.equal(argv[argv.indexOf('-serial') + 1], 'chardev:serial0');
    assert.equal(argv.some((a) => a.includes('vmkit-console')), false, "no vmkit console socket: the file is the serial port's other end");
  });

  test('serial on a unix socket: QEMU listens without waiting (server=on,wait=off), or connects with server: false', () => {
    const server = argvOf(yaml('serial: {type: unix, path: /run/s.sock}'));
    assert.equal(optValue(server, '-chardev', 'socket,id=serial0'), 'socket,id=serial0,path=/run/s.sock,server=on,wait=off');
    const client = argvOf(yaml('serial: {type: unix, path: /run/s.sock, server: false}'));
    assert.equal(optValue(client, '-chardev', 'socket,id=serial0'), 'socket,id=serial0,path=/run/s.sock,server=off');
  });

  test('libvirt <serial type=unix> mode bind/connect (connect is the default) and type=file with append', () => {
    assert.deepEqual(fromXml("<serial type='unix'><source mode='bind' path='/run/a.sock'/></serial>").serial, { mode: 'unix', path: '/run/a.sock', server: true });
    assert.deepEqual(fromXml("<serial type='unix'><source path='/run/a.sock'/></serial>").serial, { mode: 'unix', path: '/run/a.sock', server: false });
    assert.deepEqual(fromXml("<console type='file'><source path='/var/log/c.log'/><target type='serial'/></console>").serial, { mode: 'file', path: '/var/log/c.log', append: false });
    assert.deepEqual(fromXml("<serial type='stdio'/>").serial, { mode: 'console' }, "stdio is vmkit's console: the terminal of vmkit run --console");
  });

  test('bad paths are refused at their line:col: control characters, a socket path over 107 bytes, a console that disagrees', () => {
    const nl = only('name: d\nserial: {type: file, path: "/var/log/a\\nb.log"}');
    assert.equal(where(nl), '2:28 serial.path');
    assert.match(nl.message, /control character \("\\n" at position 10\)/);
    const long = `/run/${'s'.repeat(100)}.sock`;
    const p = only(`name: d\nserial: {type: unix, path: ${long}}`);
    assert.equal(where(p), '2:28 serial.path');
    assert.match(p.message, /A unix socket path holds at most 107 bytes; this one is 110 bytes/);
    const x = only(xml(`<serial type='unix'><source mode='bind' path='${long}'/></serial>`), 'vm.xml');
    assert.equal(where(x), '6:41 /domain/devices/serial/source/@path');
    const xnl = only(xml("<serial type='file'><source path='/var/log/a&#10;b.log'/></serial>"), 'vm.xml');
    assert.equal(where(xnl), '6:29 /domain/devices/serial/source/@path');
    const c = only(xml("<serial type='file'><source path='/a.log'/></serial><console type='file'><source path='/b.log'/></console>"), 'vm.xml');
    assert.equal(where(c), '6:53 /domain/devices/console');
    assert.match(c.message, /differs from the <serial>/);
    const missing = only(xml("<serial type='file'/>"), 'vm.xml');
    assert.match(missing.message, /needs <source path='...'\/>/);
  });

  test('file and unix serials round-trip through libvirt XML', () => {
    for (const text of ['serial: {type: file, path: /var/log/s.log, append: true}', 'serial: {type: unix, path: /run/s.sock}', 'serial: {type: unix, path: /run/s.sock, server: false}']) {
      const s = yaml(text);
      const back = parseDefinition(exportLibvirtXml(s), { file: 'x.xml', baseDir: '/defs' });
      assert.deepEqual(back.serial, s.serial, text);
    }
  });
});

describe('VNC on an automatic port', () => {
  test('display: auto is QEMU display 0 with to=99 (the first free port from 5900); libvirt autoport reads the same', () => {
    const s = yaml('graphics: {type: vnc, display: auto}');
    assert.deepEqual(s.graphics, { type: 'vnc', listen: '127.0.0.1' });
    assert.equal(optValue(argvOf(s), '-vnc', '127.0.0.1'), '127.0.0.1:0,to=99');
    assert.deepEqual(fromXml("<graphics type='vnc' autoport='yes'/><video><model type='vga'/></video>").graphics, { type: 'vnc', listen: '127.0.0.1' });
    assert.deepEqual(fromXml("<graphics type='vnc' port='-1'/><video><model type='vga'/></video>").graphics, { type: 'vnc', listen: '127.0.0.1' });
    const back = parseDefinition(exportLibvirtXml(s), { file: 'x.xml', baseDir: '/' });
    assert.deepEqual(back.graphics, s.graphics);
  });

  test('websocket and passwd are refused with the reason', () => {
    const w = only(xml("<graphics type='vnc' port='5900' websocket='5700'/><video><model type='vga'/></video>"), 'vm.xml');
    assert.equal(w.path, '/domain/devices/graphics/@websocket');
    assert.match(w.message, /websockets is not supported yet/);
    const pw = only(xml("<graphics type='vnc' port='5900' passwd='secret'/><video><model type='vga'/></video>"), 'vm.xml');
    assert.equal(pw.path, '/domain/devices/graphics/@passwd');
    assert.match(pw.message, /VNC passwords are not supported yet/);
  });
});

describe('balloon, RNGs and PCI host devices', () => {
  test('native keys give the same argv the libvirt import used to give as fixed arguments', () => {
    const s = yaml('hostdevs: [{host: "0000:00:07.0"}]\nballoon: true\nrngs: [{backend: random, source: "/dev/hw,rng"}, {backend: builtin}]');
    const argv = argvOf(s);
    const tail = argv.slice(argv.indexOf('none') + 1);
    assert.deepEqual(tail, [
      '-device',
      'vfio-pci,host=0000:00:07.0,id=hostdev0',
      '-device',
      'virtio-balloon-pci,id=balloon0',
      '-object',
      'rng-random,id=objrng0,filename=/dev/hw,,rng',
      '-device',
      'virtio-rng-pci,rng=objrng0,id=rng0',
      '-object',
      'rng-builtin,id=objrng1',
      '-device',
      'virtio-rng-pci,rng=objrng1,id=rng1',
    ]);
  });

  test('balloon options: stats period, autodeflate, free page reporting; an RNG defaults to /dev/urandom; hostdev boot order', () => {
    const s = yaml('balloon: {stats_period: 5, autodeflate: true}\nrngs: [{backend: random}]\nhostdevs: [{host: "81:00.1", boot_index: 1}]');
    assert.deepEqual(s.balloon, { statsPeriod: 5, autodeflate: true, freePageReporting: false });
    assert.deepEqual(s.rngs, [{ backend: 'random', source: '/dev/urandom' }]);
    const argv = argvOf(s);
    assert.equal(optValue(argv, '-device', 'virtio-balloon-pci'), 'virtio-balloon-pci,id=balloon0,deflate-on-oom=on,guest-stats-polling-interval=5');
    assert.equal(optValue(argv, '-device', 'vfio-pci'), 'vfio-pci,host=0000:81:00.1,id=hostdev0,bootindex=1');
  });

  test('no balloon by default in YAML (balloon: false too); libvirt adds one unless <memballoon model=none>', () => {
    assert.equal(yaml('memory: 256M').balloon, undefined);
    assert.equal(yaml('balloon: false').balloon, undefined);
    assert.deepEqual(fromXml('').balloon, { autodeflate: false, freePageReporting: false });
  });

  test('microvm has no PCI bus for a host device', () => {
    const s = yaml('machine: microvm\nhostdevs: [{host: "00:07.0"}]');
    assert.throws(() => argvOf(s), /Machine microvm has no PCI bus for an assigned device/);
  });

  test('bad RNG and hostdev values are refused at their line:col', () => {
    const rng = only('name: d\nrngs: [{backend: random, source: "/dev/u\\trandom"}]');
    assert.equal(where(rng), '2:34 rngs[0].source');
    const xbad = only(xml("<hostdev mode='subsystem' type='pci' managed='no'><source><address bus='0x100' slot='0x1' function='0'/></source></hostdev>"), 'vm.xml');
    assert.equal(where(xbad), '6:68 /domain/devices/hostdev/source/address/@bus');
    assert.match(xbad.message, /Invalid PCI bus/);
  });
});

describe('a QEMU binary without a device names the field that asked for it', () => {
  test('balloon, RNG objects, host devices and the serial chardev point at their own keys', () => {
    const text = 'name: d\nserial: {type: unix, path: /run/s.sock}\nballoon: true\nrngs: [{backend: builtin}]\nhostdevs: [{host: "00:07.0"}]\nnics: [{type: bridge, bridge: br0}]\n';
    const spec = parseDefinition(text, { file: 'vm.yaml', baseDir: '/defs' });
    const c = recordedCaps();
    const caps: QemuCaps = {
      ...c,
      devices: c.devices.filter((d) => !['virtio-balloon-pci', 'vfio-pci', 'virtio-rng-pci'].includes(d.name)),
      objects: c.objects.filter((o) => o !== 'rng-builtin'),
      netdevBackends: c.netdevBackends.filter((n) => n !== 'bridge'),
      chardevBackends: c.chardevBackends.filter((n) => n !== 'socket'),
    };
    const ps = validateAgainstCaps(spec, caps, { positions: definitionLocator(text, 'vm.yaml') });
    const paths = new Set(ps.map((p) => p.path));
    for (const path of ['balloon', 'rngs[0]', 'hostdevs[0]', 'nics[0].type', 'serial']) assert.ok(paths.has(path), `${path} in ${[...paths].join(', ')}`);
  });
});
