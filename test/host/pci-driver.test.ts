/**
 * Host PCI devices through sysfs (a fake tree and kernel, see fake-sysfs.ts): binding to vfio-pci and back,
 * and the refusals with their fixes. Plus the VF MAC netlink request: its bytes, and a real RTM_SETLINK on
 * the loopback interface, which the kernel parses and refuses because lo has no virtual functions.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { VmkitError } from '../../src/errors.js';
import { bindToVfio, giveBack, iommuGroupPeers, vfioProblem, virtualFunctionInfo } from '../../src/host/pci-driver.js';
import { parseAck, setVfMac, vfMacRequest } from '../../src/host/vf-mac.js';
import { fakeSysfs, type FakeSysfs } from './fake-sysfs.js';

const VF = '0000:03:10.2';
const PF = '0000:03:00.0';
const GPU = '0000:81:00.0';
const GPU_AUDIO = '0000:81:00.1';

const trees: FakeSysfs[] = [];
after(async () => {
  for (const t of trees) await t.remove();
});

async function host(opts: { iommu?: boolean; vfio?: boolean; audioDriver?: string } = {}): Promise<FakeSysfs> {
  const t = await fakeSysfs({
    iommu: opts.iommu ?? true,
    drivers: ['ixgbe', 'ixgbevf', 'nouveau', 'snd_hda_intel', ...(opts.vfio === false ? [] : ['vfio-pci'])],
    devices: [
      { address: PF, driver: 'ixgbe', iommuGroup: '20', netdev: { name: 'enp3s0f0', ifindex: 7 } },
      { address: VF, driver: 'ixgbevf', iommuGroup: '31', physfn: { pf: PF, vf: 2 } },
      { address: GPU, driver: 'nouveau', iommuGroup: '40' },
      { address: GPU_AUDIO, driver: opts.audioDriver ?? 'snd_hda_intel', iommuGroup: '40' },
    ],
  });
  trees.push(t);
  return t;
}

describe('binding host PCI devices to vfio-pci through sysfs', () => {
  test('a device moves to vfio-pci (driver_override, unbind, drivers_probe) and back to its driver', async () => {
    const t = await host();
    const opts = { sysfsRoot: t.root, writeFile: t.writeFile };
    const b = await bindToVfio(VF, opts);
    assert.deepEqual(b, { address: VF, previousDriver: 'ixgbevf', changed: true });
    assert.equal(await t.driverOf(VF), 'vfio-pci');
    assert.deepEqual(t.writes, [
      { path: `bus/pci/devices/${VF}/driver_override`, value: 'vfio-pci' },
      { path: `bus/pci/devices/${VF}/driver/unbind`, value: VF },
      { path: 'bus/pci/drivers_probe', value: VF },
    ]);
    t.writes.length = 0;
    await giveBack(b, opts);
    assert.equal(await t.driverOf(VF), 'ixgbevf', 'the kernel probed its own driver again');
    assert.equal(await t.override(VF), '(null)', 'the override is cleared');
    assert.deepEqual(t.writes.map((w) => w.path), [`bus/pci/devices/${VF}/driver_override`, `bus/pci/devices/${VF}/driver/unbind`, 'bus/pci/drivers_probe']);
    t.writes.length = 0;
    await giveBack(b, opts);
    assert.equal(await t.driverOf(VF), 'ixgbevf', 'giving back twice changes nothing');
    assert.deepEqual(t.writes.map((w) => w.path), [`bus/pci/devices/${VF}/driver_override`]);
  });

  test('a device already on vfio-pci is left alone, and not given back', async () => {
    const t = await host();
    const opts = { sysfsRoot: t.root, writeFile: t.writeFile };
    const first = await bindToVfio(VF, opts);
    t.writes.length = 0;
    const again = await bindToVfio(VF, opts);
    assert.deepEqual(again, { address: VF, previousDriver: 'vfio-pci', changed: false });
    await giveBack(again, opts);
    assert.deepEqual(t.writes, []);
    assert.equal(await t.driverOf(VF), 'vfio-pci');
    await giveBack(first, opts);
  });

  test('a bind that does not take is undone and reported', async () => {
    const t = await host({ vfio: false });
    const opts = { sysfsRoot: t.root, writeFile: t.writeFile };
    await assert.rejects(bindToVfio(VF, opts), (e: unknown) => e instanceof VmkitError && e.code === 'HostError' && /after drivers_probe it is bound to no driver/.test(e.message));
    assert.equal(await t.driverOf(VF), 'ixgbevf', 'given back to its driver');
    assert.equal(await t.override(VF), '(null)');
  });

  test('refusals name the fix: no device, no IOMMU, no vfio-pci, an IOMMU group shared with a device the host uses', async () => {
    const t = await host();
    const opts = { sysfsRoot: t.root };
    assert.equal(await vfioProblem(VF, opts), undefined);
    assert.match((await vfioProblem('0000:09:00.0', opts)) ?? '', /does not exist: check the address with lspci -D/);
    assert.match((await vfioProblem(VF, { sysfsRoot: (await host({ iommu: false })).root })) ?? '', /no IOMMU in use .*intel_iommu=on/);
    assert.match((await vfioProblem(VF, { sysfsRoot: (await host({ vfio: false })).root })) ?? '', /vfio-pci driver is not loaded; load it with modprobe vfio-pci/);
    assert.match((await vfioProblem(GPU, opts)) ?? '', /IOMMU group 40 also holds 0000:81:00.1 \(snd_hda_intel\), still used by the host; assign those devices to the guest too/);
    assert.equal(await vfioProblem(GPU, { ...opts, alsoAssigned: [GPU_AUDIO] }), undefined, 'both functions go to the guest');
    assert.equal(await vfioProblem(GPU, { sysfsRoot: (await host({ audioDriver: 'vfio-pci' })).root }), undefined, 'the peer is on vfio-pci already');
    assert.deepEqual(await iommuGroupPeers(GPU, opts), { group: '40', peers: [{ address: GPU_AUDIO, driver: 'snd_hda_intel' }] });
  });

  test('an SR-IOV VF knows its PF, its number there and the PF interface', async () => {
    const t = await host();
    assert.deepEqual(await virtualFunctionInfo(VF, { sysfsRoot: t.root }), { pf: PF, vf: 2, pfNetdev: 'enp3s0f0' });
    assert.equal(await virtualFunctionInfo(GPU, { sysfsRoot: t.root }), undefined);
  });
});

describe("a VF's MAC through its PF (rtnetlink, as ip link set PF vf N mac)", () => {
  test('the RTM_SETLINK request nests IFLA_VFINFO_LIST > IFLA_VF_INFO > IFLA_VF_MAC {vf, mac}', () => {
    const req = vfMacRequest(7, 2, '52:54:00:4a:1c:03', 9);
    const hex = Buffer.from(req).toString('hex');
    assert.equal(req.length, 80);
    assert.equal(hex.slice(0, 32), '50000000' + '1300' + '0500' + '09000000' + '00000000', 'nlmsghdr: len 80, RTM_SETLINK, REQUEST|ACK, seq 9');
    assert.equal(hex.slice(32, 64), '00000000' + '07000000' + '00000000' + '00000000', 'ifinfomsg: AF_UNSPEC, ifindex 7');
    assert.equal(hex.slice(64, 96), '30001600' + '2c000100' + '28000100' + '02000000', 'list 48 bytes, info 44, mac 40, vf 2');
    assert.equal(hex.slice(96, 108), '5254004a1c03');
    assert.ok(hex.slice(108).split('').every((c) => c === '0'), 'the rest of mac[32] is zero');
    assert.throws(() => vfMacRequest(7, 2, '52:54:00:4a:1c'), /as a MAC address/);
  });

  test('an acknowledgement and an error reply are told apart by seq', () => {
    const reply = (seq: number, error: number): Uint8Array => {
      const b = new Uint8Array(36);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, 36, true);
      dv.setUint16(4, 2, true);
      dv.setUint32(8, seq, true);
      dv.setInt32(16, error, true);
      return b;
    };
    assert.equal(parseAck(reply(5, 0), 5), 0);
    assert.equal(parseAck(reply(5, -95), 5), 95);
    assert.equal(parseAck(reply(4, 0), 5), undefined);
  });

  test('a real RTM_SETLINK reaches the kernel: on lo, which has no VFs, it is refused with the errno named', { skip: process.platform !== 'linux' }, () => {
    // As root the kernel parses the request down to the VF MAC and refuses it (lo has no ndo_set_vf_mac);
    // without CAP_NET_ADMIN it refuses the request itself.
    const expected = process.getuid?.() === 0 ? /RTM_SETLINK failed with EOPNOTSUPP \(the interface has no SR-IOV virtual functions/ : /RTM_SETLINK failed with EPERM/;
    assert.throws(
      () => setVfMac({ ifindex: 1, name: 'lo' }, 0, '52:54:00:00:00:01'),
      (e: unknown) => e instanceof VmkitError && e.code === 'HostError' && expected.test(e.message) && /ip link set lo vf 0 mac 52:54:00:00:00:01/.test(e.message),
    );
  });
});
