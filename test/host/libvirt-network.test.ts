/**
 * libvirt networks: a network's bridge read from libvirtd's status and definition files (pure parse, then
 * the file look-up with its fall-back and errors), and a real start of a domain whose network is missing:
 * refused before QEMU runs, with nothing left behind.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lookupNetworkBridge, networkBridges } from '../../src/host/libvirt-network.js';
import { bridgeOfNetworkXml } from '../../src/host/network-xml.js';
import { checkBridges } from '../../src/process/bridge-helper.js';
import { openEmbedded, VmkitError } from '../../src/index.js';
import type { Problem } from '../../src/errors.js';
import { baseSpec } from '../qemu/fixtures.js';
import { pausedYaml, qemusUnder } from '../driver/fixtures.js';

const STATUS = `<networkstatus>
  <class_id bitmap='0-2'/>
  <floor sum='0'/>
  <network>
    <name>default</name>
    <uuid>0d6f6f6a-0f0e-4b4e-9d6e-8a4f1f3c2b1a</uuid>
    <forward mode='nat'><nat><port start='1024' end='65535'/></nat></forward>
    <bridge name='virbr0' stp='on' delay='0'/>
    <ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip>
  </network>
</networkstatus>
`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-libvirt-net-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the bridge of a network file', () => {
  test('a status file (<networkstatus>) and a definition (<network>) both give <bridge name>', () => {
    assert.deepEqual(bridgeOfNetworkXml(STATUS), { bridge: 'virbr0' });
    assert.deepEqual(bridgeOfNetworkXml("<network><name>lan</name><forward mode='bridge'/><bridge name='br0'/></network>"), { bridge: 'br0' });
  });

  test('networks without a bridge say why: macvtap, a VF pool, no name yet, not a network, not XML', () => {
    const why = (text: string): string => {
      const r = bridgeOfNetworkXml(text);
      assert.ok('problem' in r, `${text}: no bridge`);
      return r.problem;
    };
    assert.match(why("<network><name>m</name><forward mode='bridge'><interface dev='eth0'/></forward></network>"), /macvtap on host interfaces/);
    assert.match(why("<network><name>m</name><forward mode='vepa'/></network>"), /macvtap network/);
    assert.match(why("<network><name>v</name><forward mode='hostdev' managed='yes'><pf dev='eth1'/></forward></network>"), /pool of SR-IOV VFs.*type: hostdev/);
    assert.match(why('<network><name>n</name></network>'), /names no bridge/);
    assert.match(why('<domain><name>d</name></domain>'), /root element is <domain>/);
    assert.match(why('<network><name>n</name>'), /not well-formed XML/);
  });
});

describe('looking a network up', () => {
  const dirs = (): { status: string; config: string } => ({ status: join(dir, 'run'), config: join(dir, 'etc') });
  before(async () => {
    await mkdir(dirs().status, { recursive: true });
    await mkdir(dirs().config, { recursive: true });
    await writeFile(join(dirs().status, 'default.xml'), STATUS);
    await writeFile(join(dirs().config, 'default.xml'), "<network><name>default</name><bridge name='virbr9'/></network>");
    await writeFile(join(dirs().config, 'lab.xml'), "<network><name>lab</name><bridge name='virbr1'/></network>");
    await writeFile(join(dirs().config, 'tap.xml'), "<network><name>tap</name><forward mode='passthrough'><interface dev='eth2'/></forward></network>");
  });

  test('the running network\'s status wins over its definition; a defined network that is not running is inactive', async () => {
    assert.deepEqual(await lookupNetworkBridge('default', dirs()), { bridge: 'virbr0', active: true, file: join(dirs().status, 'default.xml') });
    assert.deepEqual(await lookupNetworkBridge('lab', dirs()), { bridge: 'virbr1', active: false, file: join(dirs().config, 'lab.xml') });
  });

  test('a missing or bridgeless network is a HostError saying where vmkit looked and what to do', async () => {
    await assert.rejects(lookupNetworkBridge('nosuch', dirs()), (e: unknown) => {
      assert.ok(e instanceof VmkitError && e.code === 'HostError');
      assert.match(e.message, /There is no libvirt network nosuch \(looked for .*run\/nosuch\.xml and .*etc\/nosuch\.xml\): define and start it .*virsh net-start nosuch.*type: bridge/);
      return true;
    });
    await assert.rejects(lookupNetworkBridge('tap', dirs()), /libvirt network tap \(.*tap\.xml\) has no bridge vmkit can join: it is a macvtap network .*virsh net-start tap/);
    await assert.rejects(lookupNetworkBridge('../etc/passwd', dirs()), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument');
  });

  test('every network NIC of a spec is looked up at once, and every failure is named by its NIC', async () => {
    const nic = (i: number, network: string) => ({ kind: 'network', id: `net${i}`, model: 'virtio', network }) as const;
    const spec = { ...baseSpec(), nics: [nic(0, 'default'), { kind: 'user', id: 'net1', model: 'virtio', forwards: [] } as const, nic(2, 'lab')] };
    const found = await networkBridges(spec, dirs());
    assert.deepEqual([...found].map(([id, n]) => `${id}=${n.bridge}`), ['net0=virbr0', 'net2=virbr1']);
    await assert.rejects(networkBridges({ ...spec, nics: [nic(0, 'nosuch'), nic(1, 'default'), nic(2, 'tap')] }, dirs()), (e: unknown) => {
      assert.ok(e instanceof VmkitError && e.code === 'HostError');
      assert.match(e.message, /^Cannot connect domain \S+ to its libvirt networks:\n  nics\[0\]\.network: There is no libvirt network nosuch.*\n  nics\[2\]\.network: libvirt network tap/);
      assert.doesNotMatch(e.message, /nics\[1\]/);
      const problems = e.details.problems as Problem[];
      assert.deepEqual(problems.map((p) => [p.path, p.found]), [['nics[0].network', '"nosuch"'], ['nics[2].network', '"tap"']]);
      assert.match(problems[0]?.message ?? '', /^There is no libvirt network nosuch/);
      return true;
    });
    assert.equal((await networkBridges(baseSpec(), join(dir, 'none') as never)).size, 0, 'no network NIC: no look-up');
  });

  test("the bridge helper check names the network, and says to start it when it is not running", async () => {
    const helper = join(dir, 'qemu-bridge-helper');
    await writeFile(helper, '');
    await writeFile(join(dir, 'acl.conf'), 'allow virbr0\n');
    const sysNet = join(dir, 'net');
    await mkdir(join(sysNet, 'virbr0', 'bridge'), { recursive: true });
    const spec = { ...baseSpec(), nics: [{ kind: 'network', id: 'net0', model: 'virtio', network: 'default' }, { kind: 'network', id: 'net1', model: 'virtio', network: 'lab' }] } as const;
    const networks = await networkBridges(spec, dirs());
    await assert.rejects(checkBridges(spec, { asRoot: true, helper, conf: join(dir, 'acl.conf'), sysNet, networks }), (e: unknown) => {
      assert.ok(e instanceof VmkitError && e.code === 'HostError');
      assert.match(e.message, /nics\[1\]\.network: .*acl\.conf does not allow bridge virbr1 \(of libvirt network lab\): add the line "allow virbr1"/);
      assert.match(e.message, /nics\[1\]\.network: libvirt network lab is not running, so its bridge virbr1 does not exist: start it \(virsh net-start lab\)/);
      assert.doesNotMatch(e.message, /nics\[0\]/);
      return true;
    });
    await checkBridges({ ...spec, nics: [spec.nics[0]] }, { asRoot: true, helper, conf: join(dir, 'acl.conf'), sysNet, networks });
  });
});

test('starting a domain on a libvirt network this host does not have is refused before QEMU, leaving nothing behind', { timeout: 60_000 }, async () => {
  const root = join(dir, 'root');
  const conn = await openEmbedded({ root });
  try {
    const d = await conn.define({ text: `${pausedYaml('onnet', '32M')}\nnics:\n  - { type: network, network: vmkit-test-absent }\n` });
    await assert.rejects(d.start({ paused: true }), (e: unknown) => {
      assert.ok(e instanceof VmkitError && e.code === 'HostError', String(e));
      assert.match(e.message, /nics\[0\]\.network: There is no libvirt network vmkit-test-absent \(looked for \/run\/libvirt\/network\/vmkit-test-absent\.xml/);
      return true;
    });
    assert.equal(d.state(), 'shutoff');
    assert.deepEqual(await qemusUnder(root), []);
    assert.deepEqual(await readdir(join(root, 'run')).catch(() => []), [], 'no run directory is left');
    assert.deepEqual((await d.info()).nics, [{ id: 'net0', kind: 'network', model: 'virtio', network: 'vmkit-test-absent' }]);
  } finally {
    await conn.close();
  }
});
