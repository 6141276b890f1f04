/**
 * Guest device addresses and controllers: what libvirt XML and native YAML say becomes the spec, and every
 * address that cannot work (a bus that does not exist, a taken or built-in slot, a slot the bus has not, a
 * shared slot without multifunction, a drive place the controller has not) is a problem at its line.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDefinition, validateDefinition } from '../../src/config/index.js';
import { formatProblem, type Problem } from '../../src/errors.js';
import { formatAddress, parseAddress } from '../../src/model/pci.js';

function xml(devices: string, machine = 'q35'): string {
  return `<domain type='kvm'>\n<name>t</name>\n<memory unit='MiB'>256</memory>\n<os><type machine='${machine}'>hvm</type></os><features><acpi/></features>\n<devices>\n${devices}\n</devices>\n</domain>\n`;
}

const addr = (bus: number, slot: number, fn = 0, extra = ''): string =>
  `<address type='pci' domain='0x0000' bus='0x${bus.toString(16).padStart(2, '0')}' slot='0x${slot.toString(16).padStart(2, '0')}' function='0x${fn}'${extra}/>`;
const nic = (address: string): string => `<interface type='user'><model type='virtio'/>${address}</interface>`;
const rootPort = (index: number, slot: number, fn = 0, extra = ''): string => `<controller type='pci' index='${index}' model='pcie-root-port'>${addr(0, slot, fn, extra)}</controller>`;

function problems(text: string, file = 'vm.xml'): readonly Problem[] {
  return validateDefinition(text, { file, baseDir: '/defs' });
}

function only(text: string, file = 'vm.xml'): Problem {
  const ps = problems(text, file);
  assert.equal(ps.length, 1, `expected one problem, got:\n${ps.map(formatProblem).join('\n')}`);
  return ps[0] as Problem;
}

const where = (p: Problem): string => `${p.line ?? '?'}:${p.col ?? '?'} ${p.path}`;

describe('native address spelling', () => {
  test('pci:DOMAIN:BUS:SLOT.FUNCTION (domain optional, multifunction as a suffix) and drive:C:B:T:U read back as written', () => {
    assert.deepEqual(parseAddress('pci:0000:07:1f.3'), { type: 'pci', domain: 0, bus: 7, slot: 0x1f, function: 3 });
    assert.deepEqual(parseAddress('pci:0a:02.0,multifunction=on'), { type: 'pci', domain: 0, bus: 10, slot: 2, function: 0, multifunction: true });
    assert.deepEqual(parseAddress('drive:0:1:0:1'), { type: 'drive', controller: 0, bus: 1, target: 0, unit: 1 });
    assert.equal(parseAddress('pci:0000:00:20.0'), undefined, 'slot 0x20 does not exist');
    for (const text of ['pci:0000:07:1f.3', 'pci:0000:00:02.0,multifunction=on', 'drive:1:0:3:7']) assert.equal(formatAddress(parseAddress(text) as never), text);
  });
});

describe('addresses and controllers from libvirt XML', () => {
  test('a device on a pcie-root-port gets bus=pci.<index>,addr=0x0; the root port sits on pcie.0 with its chassis and port', () => {
    const spec = parseDefinition(
      xml(`<controller type='pci' index='1' model='pcie-root-port'><model name='pcie-root-port'/><target chassis='1' port='0x10'/>${addr(0, 2, 0, " multifunction='on'")}</controller>\n${nic(addr(1, 0))}`),
      { baseDir: '/defs' },
    );
    assert.deepEqual(spec.controllers, [{ type: 'pci', index: 1, model: 'pcie-root-port', chassis: 1, port: 16, address: { type: 'pci', domain: 0, bus: 0, slot: 2, function: 0, multifunction: true } }]);
    assert.deepEqual(spec.nics[0]?.address, { type: 'pci', domain: 0, bus: 1, slot: 0, function: 0 });
  });

  test('the same VM in YAML gives the same spec', () => {
    const fromXml = parseDefinition(xml(`${rootPort(1, 2, 0, " multifunction='on'")}\n${nic(addr(1, 0))}<memballoon model='virtio'>${addr(0, 5)}</memballoon>`), { baseDir: '/defs' });
    const fromYaml = parseDefinition(
      [
        'name: t',
        'machine: {type: q35, accel: kvm}',
        'memory: 256M',
        'boot: {order: [disk]}',
        'serial: none',
        'controllers: [{type: pci, model: pcie-root-port, index: 1, address: "pci:0000:00:02.0,multifunction=on"}]',
        'nics: [{type: user, address: "pci:01:00.0"}]',
        'balloon: {address: "pci:0000:00:05.0"}',
      ].join('\n'),
      { baseDir: '/defs' },
    );
    const { source: _a, ...x } = fromXml;
    const { source: _b, ...y } = fromYaml;
    assert.deepEqual(x, y);
  });

  test('addresses that cannot work are problems at the <address>, each with its line and a fix', () => {
    const cases: [string, string, RegExp, string?][] = [
      [nic(addr(5, 0)), '6:46 /domain/devices/interface/address', /There is no PCI bus 05: .*add a controller \{type: pci, model: pcie-root-port, index: 5\}/],
      [`${nic(addr(0, 3))}\n${nic(addr(0, 3))}`, '7:46 /domain/devices/interface[2]/address', /PCI address pci:0000:00:03.0 is already taken by nics\[0\]/],
      [nic(addr(0, 0x1f, 0)), '6:46 /domain/devices/interface/address', /already taken by the ICH9 LPC bridge/],
      [nic(addr(0, 1, 1)), '6:46 /domain/devices/interface/address', /already taken by the PIIX3 IDE controller/, 'pc'],
      [`${rootPort(1, 2)}\n${nic(addr(1, 3))}`, '7:46 /domain/devices/interface/address', /Slot 03 does not exist on a pcie-root-port \(bus 01\)/],
      [`${rootPort(1, 2)}\n${rootPort(2, 2, 1)}`, '6:57 /domain/devices/controller[1]/address', /function 0 must be there and say multifunction/],
      [nic(addr(0, 0)), '6:46 /domain/devices/interface/address', /Slot 00 does not exist on the root bus \(bus 00\)/],
      ["<controller type='pci' index='1' model='pcie-root-port'/>", '6:34 /domain/devices/controller/@model', /A pcie-root-port needs a q35 machine/, 'pc'],
      [`<controller type='pci' index='1' model='pcie-to-pci-bridge'>${addr(2, 0)}</controller>\n${rootPort(2, 3)}`, '6:61 /domain/devices/controller[1]/address', /lower index than its own/],
      ["<disk type='file'><driver type='raw'/><source file='/a'/><target dev='vda' bus='virtio'/><address type='drive' controller='0' bus='0' target='0' unit='0'/></disk>", '6:90 /domain/devices/disk/address', /A virtio disk is a PCI device/],
      ["<disk type='file'><driver type='raw'/><source file='/a'/><target dev='sda' bus='sata'/><address type='drive' controller='0' bus='0' target='0' unit='6'/></disk>", '6:88 /domain/devices/disk/address', /port UNIT \(0-5\) of SATA controller 0/],
      ["<disk type='file'><driver type='raw'/><source file='/a'/><target dev='hda' bus='ide'/><address type='drive' controller='0' bus='2' target='0' unit='0'/></disk>", '6:87 /domain/devices/disk/address', /bus 0-1, unit 0-1 of IDE controller 0/, 'pc'],
      [
        "<controller type='scsi' model='virtio-scsi'/><disk type='file'><driver type='raw'/><source file='/a'/><target dev='sda' bus='scsi'/><address type='drive' controller='2' bus='0' target='0' unit='0'/></disk>",
        '6:133 /domain/devices/disk/address',
        /There is no SCSI controller 2/,
      ],
      ["<disk type='file'><driver type='raw'/><source file='/a'/><target dev='vda'/><address type='pci' domain='0x0000' bus='0x00' slot='0x40' function='0x0'/></disk>", '6:124 /domain/devices/disk/address/@slot', /Invalid PCI slot/],
      ["<controller type='sata' index='0'>" + addr(0, 4) + '</controller>', '6:35 /domain/devices/controller/address', /built in at pci:0000:00:1f.2; it cannot move/],
      ["<controller type='usb' index='0' model='ich9-uhci1'/>", '6:1 /domain/devices/controller', /companion of an ich9-ehci1 with the same index/],
      [
        "<controller type='pci' index='1' model='pcie-root-port'><target chassis='1' port='0x10'/></controller><controller type='pci' index='2' model='pcie-root-port'><target chassis='1' port='0x11'/></controller>",
        '6:167 /domain/devices/controller[2]/target/@chassis',
        /Chassis 1 is already used by the pcie-root-port with index 1/,
      ],
    ];
    for (const [devices, at, message, machine] of cases) {
      const p = only(xml(devices, machine));
      assert.equal(where(p), at, devices);
      assert.match(`${p.message} (expected ${p.expected ?? '-'})`, message, devices);
    }
  });

  test('USB inputs: a tablet at its USB port on the USB controller; without a controller, or on another bus, a problem', () => {
    const spec = parseDefinition(xml("<controller type='usb' index='0' model='qemu-xhci'/><input type='tablet' bus='usb'><address type='usb' bus='0' port='1'/></input><input type='keyboard' bus='usb'/><input type='mouse' bus='ps2'/>"), { baseDir: '/defs' });
    assert.deepEqual(spec.inputs, [
      { type: 'tablet', bus: 'usb', address: { type: 'usb', bus: 0, port: '1' } },
      { type: 'keyboard', bus: 'usb' },
    ]);
    const noUsb = only(xml("<controller type='usb' model='none'/><input type='tablet' bus='usb'/>"));
    assert.equal(where(noUsb), '6:38 /domain/devices/input');
    assert.match(noUsb.message, /A USB tablet needs USB controller 0: add \{type: usb\}/);
    assert.match(only(xml("<input type='tablet' bus='virtio'/>")).message, /Input device tablet on bus virtio is not supported yet/);
    const twice = only(xml("<controller type='usb' model='qemu-xhci'/><input type='tablet' bus='usb'><address type='usb' bus='0' port='1'/></input><input type='mouse' bus='usb'><address type='usb' bus='0' port='1'/></input>"));
    assert.match(twice.message, /USB port 1 of bus 0 is already used by inputs\[0\]/);
  });

  test('in YAML the same problems point at the address value', () => {
    const p = only('name: t\ncontrollers: [{type: pci, model: pci-bridge, index: 1}]\nnics: [{type: user, address: "pci:0000:01:00.0"}]\n', 'vm.yaml');
    assert.equal(where(p), '3:30 nics[0].address');
    assert.match(p.message, /Slot 00 does not exist on a pci-bridge/);
    const bad = only('name: t\nnics: [{type: user, address: "pcie:00:02.0"}]\n', 'vm.yaml');
    assert.match(`${bad.message} (expected ${bad.expected ?? '-'})`, /guest PCI address like pci:0000:00:03.0/);
    assert.match(only('name: t\ncontrollers: [{type: pci, model: pcie-root-port}]\n', 'vm.yaml').message, /PCI bus 0 is the machine's own root bus/);
    assert.match(only('name: t\ncontrollers: [{type: pci, model: pci-bridge, index: 1, chassis: 0}]\n', 'vm.yaml').message, /QEMU refuses chassis_nr 0/);
  });
});
