/**
 * libvirt's `managed='yes'` host devices: before QEMU starts, every managed PCI device of the spec (`hostdevs`
 * and hostdev NICs) is taken from its host driver and bound to vfio-pci; after QEMU exits (or the start
 * fails) each is given back. A hostdev NIC's `mac` is set on the VF through its PF first (QEMU's vfio-pci
 * cannot set it). Everything is checked before anything changes: no IOMMU, a missing device, vfio-pci not
 * loaded, an IOMMU group shared with devices the host still uses, or a MAC on a device that is not a VF,
 * refuse the start with the fix and leave the host as it was.
 *
 * Call site (process/qemu-process.ts): after the host checks and before QEMU is spawned,
 * `const devices = await prepareManagedHostdevs(spec)`, and `await devices.release()` when QEMU has exited
 * and on every failure path of the start; `release` is idempotent.
 */
import { chown, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VmkitError } from '../errors.js';
import { bindToVfio, giveBack, ifIndex, iommuGroupPeers, vfioProblem, virtualFunctionInfo, type SysfsOptions, type VfioBinding } from '../host/pci-driver.js';
import { setVfMac } from '../host/vf-mac.js';
import type { DomainSpec } from '../model/domain.js';

export interface ManagedHostdevOptions extends SysfsOptions {
  /** Sets a VF's MAC through its PF (default: rtnetlink, host/vf-mac.ts); tests replace it. */
  readonly setVfMac?: typeof setVfMac;
  /**
   * The user QEMU runs as, when not this process's: the VFIO group nodes (`/dev/vfio/<group>`, root's and 0600
   * when the kernel makes them) are given to it for the run, as libvirt does, and back afterwards.
   */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** Where devtmpfs is mounted (default `/dev`). */
  readonly devRoot?: string;
}

export interface ManagedHostdevs {
  /** The devices that were bound to vfio-pci for this run (already-bound ones are not listed). */
  readonly bound: readonly string[];
  /** Gives every device back to its host driver; safe to call more than once. */
  release(): Promise<void>;
}

const NOTHING: ManagedHostdevs = Object.freeze({ bound: [], release: async () => undefined });

/** The managed devices of a spec, with where they are written (for messages), and the NIC MACs to set. */
export function managedDevices(spec: DomainSpec): { readonly managed: readonly { address: string; where: string }[]; readonly macs: readonly { address: string; mac: string; where: string }[] } {
  const managed: { address: string; where: string }[] = [];
  const macs: { address: string; mac: string; where: string }[] = [];
  (spec.hostdevs ?? []).forEach((h, i) => {
    if (h.managed === true) managed.push({ address: h.host, where: `hostdevs[${i}]` });
  });
  spec.nics.forEach((n, i) => {
    if (n.kind !== 'hostdev') return;
    if (n.managed === true) managed.push({ address: n.host, where: `nics[${i}]` });
    if (n.mac !== undefined) macs.push({ address: n.host, mac: n.mac, where: `nics[${i}]` });
  });
  return { managed, macs };
}

export async function prepareManagedHostdevs(spec: DomainSpec, opts: ManagedHostdevOptions = {}): Promise<ManagedHostdevs> {
  const { managed, macs } = managedDevices(spec);
  if (managed.length === 0 && macs.length === 0) return NOTHING;
  const assigned = [...(spec.hostdevs ?? []).map((h) => h.host), ...spec.nics.flatMap((n) => (n.kind === 'hostdev' ? [n.host] : []))];

  // Check everything first: a refused start changes nothing on the host.
  const problems: string[] = [];
  for (const d of managed) {
    const why = await vfioProblem(d.address, { ...opts, alsoAssigned: assigned });
    if (why !== undefined) problems.push(`${d.where}: ${why}`);
  }
  const pfs: { address: string; mac: string; where: string; pf: { ifindex: number; name: string }; vf: number }[] = [];
  for (const m of macs) {
    const info = await virtualFunctionInfo(m.address, opts).catch(() => undefined);
    if (info === undefined || info.pfNetdev === undefined) {
      problems.push(
        `${m.where}: Cannot set the MAC ${m.mac} of ${m.address}: ${info === undefined ? 'it is not an SR-IOV virtual function (no physfn in sysfs)' : `its physical function ${info.pf} has no network interface`}; remove mac, or set it on the host`,
      );
      continue;
    }
    pfs.push({ ...m, pf: { ifindex: await ifIndex(info.pfNetdev, opts), name: info.pfNetdev }, vf: info.vf });
  }
  if (problems.length > 0) {
    throw new VmkitError('HostError', `Cannot assign the host devices of ${spec.name}:\n${problems.join('\n')}`, { details: { problems } });
  }

  // The MAC first, as libvirt does: some PF drivers refuse to change it while the VF is in use.
  for (const p of pfs) (opts.setVfMac ?? setVfMac)(p.pf, p.vf, p.mac);

  const bindings: VfioBinding[] = [];
  const owned: { path: string; uid: number; gid: number }[] = [];
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    const failures: string[] = [];
    for (const o of owned) {
      // The node is gone once the group's last device left vfio-pci: nothing to give back then.
      await chown(o.path, o.uid, o.gid).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') failures.push(`Cannot give ${o.path} back to uid ${o.uid}: ${e.code ?? String(e)}`);
      });
    }
    for (const b of [...bindings].reverse()) {
      try {
        await giveBack(b, opts);
      } catch (e) {
        failures.push(e instanceof Error ? e.message : String(e));
      }
    }
    if (failures.length > 0) throw new VmkitError('HostError', `Cannot give every host device of ${spec.name} back to its driver:\n${failures.join('\n')}`, { details: { failures } });
  };
  try {
    for (const d of managed) bindings.push(await bindToVfio(d.address, opts));
    if (opts.owner !== undefined) {
      const groups = new Set<string>();
      for (const d of managed) {
        const g = (await iommuGroupPeers(d.address, opts)).group;
        if (g !== undefined) groups.add(g);
      }
      for (const g of [...groups].sort()) {
        const path = join(opts.devRoot ?? '/dev', 'vfio', g);
        const before = await stat(path).catch(() => undefined);
        if (before === undefined) throw new VmkitError('HostError', `Cannot give ${path} to QEMU's user: it does not exist although the group's devices are on vfio-pci`);
        if (before.uid === opts.owner.uid && before.gid === opts.owner.gid) continue;
        await chown(path, opts.owner.uid, opts.owner.gid);
        owned.push({ path, uid: before.uid, gid: before.gid });
      }
    }
  } catch (e) {
    await release().catch(() => undefined);
    throw e;
  }
  return { bound: bindings.filter((b) => b.changed).map((b) => b.address), release };
}
