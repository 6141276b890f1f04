/**
 * prepareManagedHostdevs() against a fake sysfs tree and kernel (test/host/fake-sysfs.ts): managed devices of a
 * spec go to vfio-pci before the start and back afterwards (once, however often release is called); a hostdev
 * NIC's MAC is set through its PF first; every refusal happens before the host changes, and a failure half
 * way gives back what was taken.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { VmkitError } from '../../src/errors.js';
import { openEmbedded } from '../../src/index.js';
import { pausedYaml, qemusUnder } from '../driver/fixtures.js';
import type { DomainSpec } from '../../src/model/domain.js';
import { managedDevices, prepareManagedHostdevs } from '../../src/process/managed-hostdevs.js';
import { fakeSysfs, type FakeSysfs } from '../host/fake-sysfs.js';
import { baseSpec } from '../qemu/fixtures.js';

const PF = '0000:03:00.0';
const VF = '0000:03:10.2';
const DEV = '0000:81:00.1';
const UNMANAGED = '0000:82:00.0';

const trees: FakeSysfs[] = [];
after(async () => {
  for (const t of trees) await t.remove();
});

async function host(opts: { iommu?: boolean; devDriver?: string; devNative?: string } = {}): Promise<FakeSysfs> {
  const t = await fakeSysfs({
    iommu: opts.iommu ?? true,
    drivers: ['ixgbe', 'ixgbevf', 'e1000e', 'vfio-pci'],
    devices: [
      { address: PF, driver: 'ixgbe', iommuGroup: '20', netdev: { name: 'enp3s0f0', ifindex: 7 } },
      { address: VF, driver: 'ixgbevf', iommuGroup: '31', physfn: { pf: PF, vf: 2 } },
      { address: DEV, driver: opts.devDriver ?? 'e1000e', ...(opts.devNative === undefined ? {} : { native: opts.devNative }), iommuGroup: '40' },
      { address: UNMANAGED, driver: 'vfio-pci', iommuGroup: '41' },
    ],
  });
  trees.push(t);
  return t;
}

function spec(): DomainSpec {
  return {
    ...baseSpec(),
    nics: [{ kind: 'hostdev', id: 'net0', model: 'vfio-pci', host: VF, managed: true, mac: '52:54:00:4a:1c:03' }],
    hostdevs: [{ host: DEV, managed: true }, { host: UNMANAGED }],
  };
}

describe('managed host devices around a run', () => {
  test('lists the managed devices and the MACs to set, with where they are written', () => {
    assert.deepEqual(managedDevices(spec()), {
      managed: [
        { address: DEV, where: 'hostdevs[0]' },
        { address: VF, where: 'nics[0]' },
      ],
      macs: [{ address: VF, mac: '52:54:00:4a:1c:03', where: 'nics[0]' }],
    });
  });

  test('binds the managed devices to vfio-pci after setting the VF MAC on its PF, and gives them back once', async () => {
    const t = await host();
    const macs: unknown[] = [];
    const devs = await prepareManagedHostdevs(spec(), { sysfsRoot: t.root, writeFile: t.writeFile, setVfMac: (pf, vf, mac) => void macs.push({ pf, vf, mac, before: t.writes.length }) });
    assert.deepEqual(macs, [{ pf: { ifindex: 7, name: 'enp3s0f0' }, vf: 2, mac: '52:54:00:4a:1c:03', before: 0 }], 'the MAC is set through PF enp3s0f0 before any rebinding');
    assert.deepEqual(devs.bound, [DEV, VF]);
    assert.equal(await t.driverOf(DEV), 'vfio-pci');
    assert.equal(await t.driverOf(VF), 'vfio-pci');
    assert.equal(t.writes.some((w) => w.path.includes(UNMANAGED)), false, "managed: no is left as it is");
    await devs.release();
    assert.equal(await t.driverOf(DEV), 'e1000e');
    assert.equal(await t.driverOf(VF), 'ixgbevf');
    const n = t.writes.length;
    await devs.release();
    assert.equal(t.writes.length, n, 'a second release writes nothing');
  });

  test("QEMU's user gets the VFIO group nodes of the run, and they go back to their owner afterwards", { skip: process.getuid?.() !== 0 ? 'chown needs root' : false }, async () => {
    const t = await host();
    const dev = await mkdtemp(join(tmpdir(), 'vmkit-dev-'));
    try {
      await mkdir(join(dev, 'vfio'));
      for (const g of ['31', '40']) await writeFile(join(dev, 'vfio', g), '');
      const devs = await prepareManagedHostdevs(spec(), { sysfsRoot: t.root, writeFile: t.writeFile, setVfMac: () => undefined, owner: { uid: 64055, gid: 993 }, devRoot: dev });
      for (const g of ['31', '40']) {
        const st = await stat(join(dev, 'vfio', g));
        assert.deepEqual([st.uid, st.gid], [64055, 993], `group ${g}`);
      }
      await devs.release();
      for (const g of ['31', '40']) {
        const st = await stat(join(dev, 'vfio', g));
        assert.deepEqual([st.uid, st.gid], [0, 0], `group ${g} back to root`);
      }
    } finally {
      await rm(dev, { recursive: true, force: true });
    }
  });

  test('refuses before touching anything: no IOMMU, a missing device, a MAC on a device that is not a VF', async () => {
    const t = await host({ iommu: false });
    const missing: DomainSpec = { ...spec(), hostdevs: [{ host: '0000:09:00.0', managed: true }], nics: [{ kind: 'hostdev', id: 'net0', model: 'vfio-pci', host: DEV, mac: '52:54:00:00:00:09' }] };
    await assert.rejects(
      prepareManagedHostdevs(missing, { sysfsRoot: t.root, writeFile: t.writeFile, setVfMac: () => assert.fail('no MAC may be set') }),
      (e: unknown) =>
        e instanceof VmkitError &&
        e.code === 'HostError' &&
        /hostdevs\[0\]: Host PCI device 0000:09:00.0 does not exist/.test(e.message) &&
        /nics\[0\]: Cannot set the MAC 52:54:00:00:00:09 of 0000:81:00.1: it is not an SR-IOV virtual function/.test(e.message),
    );
    await assert.rejects(prepareManagedHostdevs(spec(), { sysfsRoot: t.root, writeFile: t.writeFile, setVfMac: () => undefined }), /no IOMMU in use .*intel_iommu=on/);
    assert.deepEqual(t.writes, [], 'nothing was written');
  });

  test('a bind that fails half way gives back the devices already taken', async () => {
    // DEV's override names vfio-pci, but this fake kernel leaves it unbound: the second bind fails.
    const t = await host();
    const broken = { ...t, writeFile: async (path: string, value: string) => (value.trim() === VF && path.endsWith('drivers_probe') ? undefined : t.writeFile(path, value)) };
    const order: DomainSpec = { ...spec(), hostdevs: [{ host: DEV, managed: true }] };
    await assert.rejects(prepareManagedHostdevs(order, { sysfsRoot: t.root, writeFile: broken.writeFile, setVfMac: () => undefined }), /Cannot bind 0000:03:10.2 to vfio-pci/);
    assert.equal(await t.driverOf(DEV), 'e1000e', 'the first device is back on its driver');
    assert.equal(await t.override(DEV), '(null)');
  });

  test('a spec without managed devices or MACs does nothing', async () => {
    const devs = await prepareManagedHostdevs({ ...baseSpec(), hostdevs: [{ host: UNMANAGED }] }, { sysfsRoot: '/nonexistent' });
    assert.deepEqual(devs.bound, []);
    await devs.release();
  });
});

test('a real start with a managed device this host does not have is refused before QEMU, leaving nothing behind', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'vmkit-managed-'));
  const conn = await openEmbedded({ root });
  try {
    const d = await conn.define({ text: `${pausedYaml('managed', '32M')}\nhostdevs:\n  - { host: "0000:fe:1f.7", managed: true }\n` });
    await assert.rejects(d.start({ paused: true }), (e: unknown) => {
      assert.ok(e instanceof VmkitError && e.code === 'HostError', String(e));
      assert.match(e.message, /hostdevs\[0\]: Host PCI device 0000:fe:1f.7 does not exist: check the address with lspci -D/);
      return true;
    });
    assert.equal(d.state(), 'shutoff');
    assert.deepEqual(await qemusUnder(root), []);
    assert.deepEqual(await readdir(join(root, 'run')).catch(() => []), [], 'no run directory is left');
  } finally {
    await conn.close();
    await rm(root, { recursive: true, force: true });
  }
});
