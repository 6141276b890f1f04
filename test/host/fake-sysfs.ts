/**
 * A fake sysfs PCI tree in a temporary directory, and a fake kernel that reacts to the attribute writes the
 * way Linux does: `driver/unbind` drops the device's driver link, `drivers_probe` binds it to its
 * `driver_override` (when that driver is loaded) or else to the driver that matches it. Every write is
 * recorded, so tests see exactly what was written, in order.
 */
import { mkdir, mkdtemp, readFile, readlink, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';

export interface FakeDevice {
  readonly address: string;
  /** The driver it is bound to now (none: unbound). */
  readonly driver?: string;
  /** The driver the kernel picks for it on a probe without override (default: `driver`). */
  readonly native?: string;
  readonly iommuGroup?: string;
  /** SR-IOV: the PF of this VF and its number there. */
  readonly physfn?: { readonly pf: string; readonly vf: number };
  /** A network interface of this device (for PFs), with its ifindex. */
  readonly netdev?: { readonly name: string; readonly ifindex: number };
}

export interface FakeSysfs {
  readonly root: string;
  readonly writes: { path: string; value: string }[];
  /** The fake kernel: pass as `writeFile` in SysfsOptions. */
  writeFile(path: string, value: string): Promise<void>;
  driverOf(address: string): Promise<string | undefined>;
  override(address: string): Promise<string>;
  remove(): Promise<void>;
}

export async function fakeSysfs(opts: { devices: readonly FakeDevice[]; drivers: readonly string[]; iommu?: boolean }): Promise<FakeSysfs> {
  const root = await mkdtemp(join(tmpdir(), 'vmkit-sysfs-'));
  const devDir = (a: string): string => join(root, 'bus/pci/devices', a);
  const native = new Map<string, string | undefined>();
  await mkdir(join(root, 'bus/pci/devices'), { recursive: true });
  await mkdir(join(root, 'kernel/iommu_groups'), { recursive: true });
  await writeFile(join(root, 'bus/pci/drivers_probe'), '');
  for (const d of opts.drivers) await mkdir(join(root, 'bus/pci/drivers', d), { recursive: true });
  const link = async (from: string, to: string): Promise<void> => {
    await symlink(relative(dirname(from), to), from);
  };
  for (const d of opts.devices) {
    const dir = devDir(d.address);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'driver_override'), '(null)\n');
    native.set(d.address, d.native ?? d.driver);
    if (d.driver !== undefined) await link(join(dir, 'driver'), join(root, 'bus/pci/drivers', d.driver));
    if (d.iommuGroup !== undefined && opts.iommu !== false) {
      const g = join(root, 'kernel/iommu_groups', d.iommuGroup, 'devices');
      await mkdir(g, { recursive: true });
      await link(join(g, d.address), dir);
      await link(join(dir, 'iommu_group'), join(root, 'kernel/iommu_groups', d.iommuGroup));
    }
    if (d.netdev !== undefined) {
      await mkdir(join(dir, 'net', d.netdev.name), { recursive: true });
      await mkdir(join(root, 'class/net', d.netdev.name), { recursive: true });
      await writeFile(join(root, 'class/net', d.netdev.name, 'ifindex'), `${d.netdev.ifindex}\n`);
    }
  }
  for (const d of opts.devices) {
    if (d.physfn === undefined) continue;
    await link(join(devDir(d.address), 'physfn'), devDir(d.physfn.pf));
    await link(join(devDir(d.physfn.pf), `virtfn${d.physfn.vf}`), devDir(d.address));
  }
  const driverOf = async (a: string): Promise<string | undefined> => {
    try {
      return basename(await readlink(join(devDir(a), 'driver')));
    } catch {
      return undefined;
    }
  };
  const writes: { path: string; value: string }[] = [];
  return {
    root,
    writes,
    driverOf,
    override: async (a) => (await readFile(join(devDir(a), 'driver_override'), 'utf8')).trim(),
    async writeFile(path, value) {
      writes.push({ path: relative(root, path), value });
      if (path.endsWith('/driver/unbind')) {
        const dev = dirname(dirname(path));
        await unlink(join(dev, 'driver'));
        return;
      }
      if (path === join(root, 'bus/pci/drivers_probe')) {
        const a = value.trim();
        if ((await driverOf(a)) !== undefined) return;
        const o = (await readFile(join(devDir(a), 'driver_override'), 'utf8')).trim();
        const want = o !== '' && o !== '(null)' ? o : native.get(a);
        if (want !== undefined && opts.drivers.includes(want)) await link(join(devDir(a), 'driver'), join(root, 'bus/pci/drivers', want));
        return;
      }
      await writeFile(path, value === '\n' ? '(null)\n' : value);
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
