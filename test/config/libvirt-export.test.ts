/**
 * exportLibvirtXml(): libvirt-valid XML (checked against libvirt's own RELAX NG schema when xmllint is there),
 * escaped and in a stable order; import -> export -> import gives the same DomainSpec, and so does
 * native YAML -> export -> import.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exportLibvirtXml, parseDefinition, parseLibvirtXml } from '../../src/config/index.js';
import { VmkitError } from '../../src/errors.js';
import type { DomainSpec } from '../../src/model/domain.js';
import { baseSpec } from '../qemu/fixtures.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const LIBVIRT = join(REPO, 'test/fixtures/libvirt');
const NATIVE = join(REPO, 'test/fixtures/config');
const RNG = join(LIBVIRT, 'rng/domain.rng');
const GOLDEN_XML = join(REPO, 'test/golden/libvirt/export-full.xml');
const UPDATING = process.env['UPDATE_GOLDEN'] === '1';

function load(file: string): DomainSpec {
  return parseDefinition(readFileSync(file, 'utf8'), { file, baseDir: dirname(file) });
}

function withoutSource(spec: DomainSpec): Omit<DomainSpec, 'source'> {
  const { source: _source, ...rest } = spec;
  return rest;
}

/** Imports exported XML; every problem fails the test. */
function reimport(xml: string): DomainSpec {
  const r = parseLibvirtXml(xml, { file: 'exported.xml', baseDir: '/nowhere' });
  assert.deepEqual(r.problems, [], `the exported XML does not import cleanly:\n${xml}`);
  assert.ok(r.spec !== undefined);
  return r.spec;
}

const XML_CASES = readdirSync(LIBVIRT).filter((f) => f.endsWith('.xml') && !f.startsWith('problem-'));
const YAML_CASES = [
  ...readdirSync(LIBVIRT).filter((f) => f.endsWith('.yaml')).map((f) => join(LIBVIRT, f)),
  ...['native-full.yaml', 'native-kernel.yaml', 'native-minimal.yaml'].map((f) => join(NATIVE, f)),
];

describe('round trips', () => {
  for (const f of XML_CASES) {
    test(`import -> export -> import of ${f} gives an equal DomainSpec`, () => {
      const first = load(join(LIBVIRT, f));
      const xml = exportLibvirtXml(first);
      assert.deepEqual(withoutSource(reimport(xml)), withoutSource(first));
      assert.equal(exportLibvirtXml(reimport(xml)), xml, 'exporting again writes the same text');
    });
  }
  for (const file of YAML_CASES) {
    test(`native YAML -> export -> import of ${file.slice(REPO.length)} gives an equal DomainSpec`, () => {
      const spec = load(file);
      assert.deepEqual(withoutSource(reimport(exportLibvirtXml(spec))), withoutSource(spec));
    });
  }
});

/** A spec with every field set, and values that need escaping. */
function fullSpec(): DomainSpec {
  const base = baseSpec();
  return {
    ...base,
    name: 'full',
    uuid: '3f2a1c9e-0b7d-4c2e-9a51-6d0f8e2b4c71',
    title: 'Full <spec> & "quotes"',
    description: 'Two lines,\n  the second <indented>.',
    lifecycle: { onPoweroff: 'preserve', onReboot: 'destroy', onCrash: 'restart' },
    features: { acpi: false },
    clock: { offset: 'variable', adjustment: -600, basis: 'localtime', rtcTickPolicy: 'catchup', pitTickPolicy: 'discard', hpet: false, kvmclock: false },
    emulator: '/opt/qemu/bin/qemu-system-x86_64',
    machine: { type: 'q35', accel: 'auto' },
    cpu: { model: 'Skylake-Client', vcpus: 4, sockets: 1, cores: 2, threads: 2, features: [{ name: 'vmx', enabled: true }, { name: 'hle', enabled: false }] },
    memoryMiB: 1024,
    currentMemoryMiB: 768,
    memoryBacking: { hugepages: { pageSizeKiB: 2048, path: '/mnt/huge' }, prealloc: true, locked: true },
    numaTune: { mode: 'interleave', hostNodes: [0, 1] },
    numaCells: [
      { id: 0, vcpus: [0, 1], memoryMiB: 512, hostNodes: [0], mode: 'strict' },
      { id: 1, vcpus: [2, 3], memoryMiB: 512 },
    ],
    boot: { kind: 'kernel', kernel: "/boot/vm'linuz", initrd: '/boot/initrd<&>.img', cmdline: 'console=ttyS0 msg="a <b> & \'c\'" tab\there' },
    disks: [
      { id: 'disk0', path: '/srv/a,b "c" <d>.qcow2', format: 'qcow2', bus: 'virtio', media: 'disk', cache: 'none', aio: 'native', readonly: false, iothread: 'fast', serial: 'SER-1' },
      { id: 'disk1', path: '/dev/vg0/data', format: 'raw', bus: 'scsi', media: 'disk', readonly: true },
      { id: 'disk2', path: '/srv/cd.iso', format: 'raw', bus: 'sata', media: 'cdrom', readonly: true },
    ],
    nics: [
      { kind: 'user', id: 'net0', model: 'virtio', mac: '52:54:00:12:34:56', forwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 2222, guestPort: 22 }] },
      { kind: 'tap', id: 'net1', model: 'e1000e', ifname: 'tap-vm1' },
      { kind: 'bridge', id: 'net2', model: 'virtio', mac: '52:54:00:12:34:57', bridge: 'br0', mtu: 1400 },
      { kind: 'hostdev', id: 'net3', model: 'vfio-pci', host: '0000:03:10.2' },
      { kind: 'network', id: 'net4', model: 'rtl8139', mac: '52:54:00:12:34:58', network: 'default' },
    ],
    serial: { mode: 'console' },
    graphics: { type: 'vnc', listen: '127.0.0.1', display: 2 },
    balloon: { statsPeriod: 10, autodeflate: true, freePageReporting: false },
    rngs: [{ backend: 'random', source: '/dev/hw,rng' }, { backend: 'builtin' }],
    hostdevs: [{ host: '0000:00:07.0' }, { host: '0000:81:00.1' }],
    iothreads: ['fast', 'iothread2'],
    qemuArgs: ['-set', "device.disk0.config-wce=off"],
    tuning: {
      autoPin: false,
      vcpuPins: [
        { vcpu: 0, cpus: [1, 3, 4] },
        { vcpu: 3, cpus: [7] },
      ],
      emulatorPin: [0],
      iothreadPins: [{ iothread: 'fast', cpus: [5, 6] }],
      vcpuSched: { policy: 'fifo', priority: 10 },
      emulatorSched: { policy: 'other' },
      iothreadSched: { policy: 'batch' },
      rlimitMemlock: 3 * 1024 ** 3,
      isolate: true,
      debug: true,
    },
    process: { user: 'qemu', group: 64055, env: { QEMU_AUDIO_DRV: 'none', X: 'a&b' }, clearEnv: true },
  };
}

describe('exportLibvirtXml()', () => {
  test('writes every field of a full spec in a stable order (golden export-full.xml) and reads it back equal', () => {
    const xml = exportLibvirtXml(fullSpec());
    if (UPDATING) writeFileSync(GOLDEN_XML, xml);
    assert.equal(xml, readFileSync(GOLDEN_XML, 'utf8'), 'the exported XML changed; if intended, run with UPDATE_GOLDEN=1 and review test/golden/libvirt/export-full.xml');
    assert.deepEqual(withoutSource(reimport(xml)), withoutSource(fullSpec()));
  });

  test('escapes quotes, angle brackets, ampersands and tabs in attribute values and text', () => {
    const xml = exportLibvirtXml(fullSpec());
    assert.match(xml, /<source file='\/srv\/a,b &quot;c&quot; &lt;d&gt;\.qcow2'\/>/);
    assert.match(xml, /<kernel>\/boot\/vm'linuz<\/kernel>/);
    assert.match(xml, /<initrd>\/boot\/initrd&lt;&amp;&gt;\.img<\/initrd>/);
    assert.match(xml, /<qemu:env name='X' value='a&amp;b'\/>/);
    assert.deepEqual(reimport(xml).boot, fullSpec().boot, 'the command line with quotes, <, & and a tab comes back as it was');
  });

  test('libvirt-only defaults are written out so libvirt does the same: no USB, no balloon unless asked, ACPI, utc', () => {
    const xml = exportLibvirtXml(baseSpec());
    assert.match(xml, /<controller type='usb' index='0' model='none'\/>/);
    assert.match(xml, /<memballoon model='none'\/>/);
    assert.match(xml, /<features>\n {4}<acpi\/>\n {4}<apic\/>\n {2}<\/features>/);
    assert.match(xml, /<clock offset='utc'\/>/);
    assert.match(xml, /<serial type='pty'>/);
  });

  test('domain-level settings: title/description escaped, on_* only when the spec has policies, no <acpi/> when ACPI is off, vcpu current', () => {
    const xml = exportLibvirtXml(fullSpec());
    assert.match(xml, /<title>Full &lt;spec&gt; &amp; "quotes"<\/title>/);
    assert.match(xml, /<on_poweroff>preserve<\/on_poweroff>\n {2}<on_reboot>destroy<\/on_reboot>\n {2}<on_crash>restart<\/on_crash>/);
    assert.match(xml, /<features>\n {4}<apic\/>\n {2}<\/features>/);
    assert.match(xml, /<clock offset='variable' adjustment='-600' basis='localtime'>/);
    assert.match(xml, /<feature policy='require' name='vmx'\/>\n {4}<feature policy='disable' name='hle'\/>/);
    assert.doesNotMatch(exportLibvirtXml(baseSpec()), /<on_/);
    const hotplug: DomainSpec = { ...baseSpec(), cpu: { vcpus: 2, maxVcpus: 4, sockets: 4, cores: 1, threads: 1 } };
    assert.match(exportLibvirtXml(hotplug), /<vcpu placement='static' current='2'>4<\/vcpu>/);
    assert.deepEqual(withoutSource(reimport(exportLibvirtXml(hotplug))), withoutSource(hotplug));
    const pflash: DomainSpec = { ...baseSpec(), boot: { kind: 'firmware', pflash: { code: '/fw/CODE.fd', readonly: false }, order: [] } };
    assert.match(exportLibvirtXml(pflash), /<loader readonly='no' type='pflash'>\/fw\/CODE\.fd<\/loader>/);
    assert.deepEqual(withoutSource(reimport(exportLibvirtXml(pflash))), withoutSource(pflash));
  });

  test('refuses a qemu-launcher spec (its options are passed through, not described)', () => {
    const spec: DomainSpec = { ...baseSpec(), rawOptions: [{ name: 'm', value: '1G' }], source: { format: 'qemu-launcher' } };
    assert.throws(() => exportLibvirtXml(spec), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument' && /qemu-launcher/.test(e.message));
  });

  test('refuses a control character XML cannot carry, naming it', () => {
    const spec: DomainSpec = { ...baseSpec(), boot: { kind: 'kernel', kernel: '/k', cmdline: 'a\u0001b' } };
    assert.throws(() => exportLibvirtXml(spec), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument' && /control character/.test(e.message));
  });
});

/** xmllint from $XMLLINT or PATH, if there is one. */
function xmllint(): string | undefined {
  const candidate = process.env['XMLLINT'] ?? 'xmllint';
  const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
  return r.error === undefined && r.status === 0 ? candidate : undefined;
}

describe("exported XML against libvirt's domain.rng", () => {
  const lint = xmllint();
  const skip = lint === undefined ? 'xmllint is not installed (apt-get install libxml2-utils, or set XMLLINT)' : false;
  test('every export validates against libvirt 9.0 domain.rng', { skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmkit-rng-'));
    try {
      const specs: [string, DomainSpec][] = [
        ['full', fullSpec()],
        ['base', baseSpec()],
        ...XML_CASES.map((f): [string, DomainSpec] => [f, load(join(LIBVIRT, f))]),
        ...YAML_CASES.map((f): [string, DomainSpec] => [f.slice(REPO.length), load(f)]),
      ];
      const files = specs.map(([name, spec], i) => {
        const file = join(dir, `${i}.xml`);
        writeFileSync(file, exportLibvirtXml(spec));
        return { name, file };
      });
      for (const { name, file } of files) {
        try {
          execFileSync(lint as string, ['--noout', '--relaxng', RNG, file], { encoding: 'utf8', stdio: 'pipe' });
        } catch (e) {
          assert.fail(`${name}: the export does not validate against domain.rng:\n${(e as { stderr?: string }).stderr ?? String(e)}\n${readFileSync(file, 'utf8')}`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
