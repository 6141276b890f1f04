/**
 * Golden argv equivalence: each case is one VM written twice, as libvirt XML (test/fixtures/libvirt/<case>.xml)
 * and as native YAML (<case>.yaml). Both must give the same DomainSpec (apart from where it came from) and the
 * same QEMU argv, which is pinned in test/golden/libvirt/<case>.args (rewrite with UPDATE_GOLDEN=1).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDefinition } from '../../src/config/index.js';
import type { DomainSpec } from '../../src/model/domain.js';
import { buildArgv, describeArgv, parseDescribedArgv } from '../../src/qemu/argv/index.js';
import { argvContext } from '../qemu/fixtures.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = join(REPO, 'test/fixtures/libvirt');
const GOLDEN = join(REPO, 'test/golden/libvirt');
const UPDATING = process.env['UPDATE_GOLDEN'] === '1';

/** What each case covers (every case has a .xml, a .yaml and a .args file). */
const CASES: Readonly<Record<string, string>> = {
  minimal: 'name, uuid, memory in KiB, vcpu, on_* actions, emulator; libvirt defaults (socket per vCPU, boot hd, balloon)',
  'memory-units': 'memory unit GiB, currentMemory, hugepages page size, locked, immediate allocation',
  'cpu-host-topology': 'cpu host-passthrough with topology, features acpi/apic/pae, clock utc',
  'cpu-custom-numa': 'custom CPU model, NUMA cells in KiB and MiB, numatune memory and memnode',
  cputune: "the seed's vcpupin 1-4,^2, emulatorpin, iothreadpin, vcpusched/iothreadsched/emulatorsched",
  'vcpu-cpuset': '<vcpu cpuset> as the default pin of vCPUs, emulator and iothreads',
  'disk-dataplane': "the seed's dataplane disk: iothread, cache none, io native, -set via qemu:commandline",
  disks: 'virtio, scsi (virtio-scsi), sata cdrom, block device, readonly, serial, iso format, boot order, commas in paths',
  'kernel-boot': "the seed's scale-test domain: kernel, initrd, cmdline, console pty, SCSI block disk, default machine",
  'firmware-boot': 'loader rom, boot dev order, IDE disk and cdrom on pc, user NIC with e1000',
  nics: 'user NICs with MAC and portForward, ethernet on an existing tap, default rtl8139 model',
  'console-vnc': 'serial and console pty, ps2 inputs, fixed VNC port with listen address, VGA video',
  'extra-devices': 'PCI hostdev, virtio memballoon, RNG random and builtin',
  'nics-bridge-hostdev': 'bridge interfaces (bridge helper), an SR-IOV VF interface (vfio-pci), a PCI hostdev, per-device boot order, MTU',
  'serial-file': 'serial and console to a file (append, comma in the path), VNC autoport, balloon with stats, autodeflate, free page reporting',
  'serial-unix': 'serial on a unix socket QEMU listens on (mode bind), RNG from /dev/urandom',
  'qemu-commandline': 'qemu:arg and qemu:env, domain type qemu (TCG)',
  platform: 'title/description, vcpu current < max, CPU feature policies, clock localtime with rtc/pit/hpet/kvmclock timers, on_* policies',
  pflash: 'pflash loader read-only with nvram and template (comma in the path), clock variable with adjustment',
  'dumpxml-q35': "virsh dumpxml of a q35 guest (libvirt 9): every device at its PCI address on pcie-root-ports and a pcie-to-pci-bridge, drive addresses on SATA and SCSI, USB, virtio-serial, managed hostdevs, a hostdev NIC with a MAC",
  'dumpxml-i440fx': 'virsh dumpxml of an i440fx guest (libvirt 9): PCI addresses on pci.0 and a pci-bridge, IDE drive addresses, the PIIX3 USB controller at 00:01.2, the built-in IDE',
};

function load(name: string): DomainSpec {
  const file = join(FIXTURES, name);
  return parseDefinition(readFileSync(file, 'utf8'), { file, baseDir: dirname(file) });
}

function withoutSource(spec: DomainSpec): Omit<DomainSpec, 'source'> {
  const { source: _source, ...rest } = spec;
  return rest;
}

function golden(name: string, actual: string): string {
  const path = join(GOLDEN, `${name}.args`);
  if (UPDATING) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(path, actual);
    return actual;
  }
  assert.ok(existsSync(path), `Golden file ${path} is missing: run the tests with UPDATE_GOLDEN=1 to create it, then review it`);
  return readFileSync(path, 'utf8');
}

describe('libvirt XML and native YAML give the same argv', () => {
  for (const [name, what] of Object.entries(CASES)) {
    test(`${name}: ${what}`, () => {
      const xml = load(`${name}.xml`);
      const yaml = load(`${name}.yaml`);
      assert.equal(xml.source.format, 'libvirt-xml');
      assert.equal(yaml.source.format, 'vmkit-yaml');
      assert.deepEqual(withoutSource(xml), withoutSource(yaml));
      const ctx = argvContext();
      const argv = buildArgv(xml, ctx);
      assert.deepEqual(argv, buildArgv(yaml, ctx));
      const text = describeArgv(argv);
      assert.equal(text, golden(name, text), `argv changed for ${name}; if intended, run with UPDATE_GOLDEN=1 and review test/golden/libvirt/${name}.args`);
      assert.deepEqual(parseDescribedArgv(text), argv);
    });
  }

  test('every fixture and golden file belongs to a case', { skip: UPDATING ? 'UPDATE_GOLDEN=1 is rewriting the files' : false }, () => {
    const names = new Set(Object.keys(CASES));
    const fixtures = readdirSync(FIXTURES).filter((f) => /\.(xml|yaml)$/.test(f) && !f.startsWith('run-') && !f.startsWith('problem-'));
    assert.deepEqual(fixtures.filter((f) => !names.has(f.replace(/\.(xml|yaml)$/, ''))), []);
    assert.deepEqual(readdirSync(GOLDEN).filter((f) => f.endsWith('.args') && !names.has(f.slice(0, -'.args'.length))), []);
  });
});

describe('argv details libvirt users rely on', () => {
  test("cache='none' io='native' become cache.direct=on and aio=native; iothread='1' runs the disk in -object iothread,id=iothread1", () => {
    const argv = buildArgv(load('disk-dataplane.xml'), argvContext());
    assert.ok(argv.includes('iothread,id=iothread1'));
    const file = argv.find((a) => a.startsWith('driver=file,'));
    assert.match(file ?? '', /cache\.direct=on/);
    assert.match(file ?? '', /aio=native/);
    assert.match(argv.find((a) => a.startsWith('virtio-blk-pci,')) ?? '', /iothread=iothread1/);
  });

  test('memory given in KiB and GiB reaches QEMU as whole MiB', () => {
    const at = (spec: DomainSpec): string | undefined => {
      const argv = buildArgv(spec, argvContext());
      return argv[argv.indexOf('-m') + 1];
    };
    assert.equal(at(load('minimal.xml')), '1024M');
    assert.equal(at(load('memory-units.xml')), '2048M');
  });
});
