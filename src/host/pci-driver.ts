/**
 * Host PCI devices and their drivers through sysfs, for assigning them to guests with vfio-pci (libvirt's
 * `managed='yes'`): what a device is bound to, its IOMMU group, whether the host has an IOMMU and vfio-pci,
 * and the rebinding itself: `driver_override` = vfio-pci, unbind from the current driver, `drivers_probe`;
 * and back (clear the override, unbind from vfio-pci, `drivers_probe`, so the kernel gives the device to the
 * driver that matches it). Plain file writes, nothing forked. The sysfs root is an option, so tests run
 * against a fake tree in a temporary directory.
 */
import { readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { VmkitError } from '../errors.js';

export interface SysfsOptions {
  /** Where sysfs is mounted (default `/sys`). */
  readonly sysfsRoot?: string;
  /** How a sysfs attribute is written (default: fs writeFile); tests pass a fake kernel that reacts to the writes. */
  readonly writeFile?: (path: string, value: string) => Promise<void>;
}

export const VFIO_DRIVER = 'vfio-pci';
/** Drivers that may hold the other devices of an IOMMU group while one of them is assigned. */
const GROUP_SAFE_DRIVERS = new Set([VFIO_DRIVER, 'pci-stub', 'pcieport']);
const PCI_ADDRESS = /^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$/;

function root(opts: SysfsOptions): string {
  return opts.sysfsRoot ?? '/sys';
}

function devicePath(address: string, opts: SysfsOptions): string {
  if (!PCI_ADDRESS.test(address)) throw new VmkitError('InvalidArgument', `Cannot use ${JSON.stringify(address)} as a host PCI address: expected dddd:bb:ss.f`);
  return join(root(opts), 'bus/pci/devices', address);
}

async function linkName(path: string): Promise<string | undefined> {
  try {
    return basename(await readlink(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await readdir(path);
    return true;
  } catch {
    return false;
  }
}

/** The driver a device is bound to (`vfio-pci`, `ixgbevf`, ...), undefined when none; throws NotFound for a missing device. */
export async function currentDriver(address: string, opts: SysfsOptions = {}): Promise<string | undefined> {
  const dev = devicePath(address, opts);
  if (!(await exists(dev))) {
    throw new VmkitError('NotFound', `Host PCI device ${address} does not exist (no ${dev}); check the address with lspci -D`, { details: { address } });
  }
  return linkName(join(dev, 'driver'));
}

/** True when the kernel has an IOMMU in use (`/sys/kernel/iommu_groups` has groups). */
export async function iommuActive(opts: SysfsOptions = {}): Promise<boolean> {
  try {
    return (await readdir(join(root(opts), 'kernel/iommu_groups'))).length > 0;
  } catch {
    return false;
  }
}

/** True when the vfio-pci driver is loaded (`/sys/bus/pci/drivers/vfio-pci`). */
export async function vfioPciLoaded(opts: SysfsOptions = {}): Promise<boolean> {
  return exists(join(root(opts), 'bus/pci/drivers', VFIO_DRIVER));
}

/** The other devices of `address`'s IOMMU group and their drivers. */
export async function iommuGroupPeers(address: string, opts: SysfsOptions = {}): Promise<{ readonly group: string | undefined; readonly peers: readonly { address: string; driver: string | undefined }[] }> {
  const group = await linkName(join(devicePath(address, opts), 'iommu_group'));
  if (group === undefined) return { group: undefined, peers: [] };
  const members = await readdir(join(root(opts), 'kernel/iommu_groups', group, 'devices')).catch(() => [] as string[]);
  const peers = [];
  for (const m of members.filter((x) => x !== address).sort()) peers.push({ address: m, driver: await linkName(join(root(opts), 'bus/pci/devices', m, 'driver')) });
  return { group, peers };
}

/**
 * Why `address` cannot be given to vfio-pci on this host, with the fix, or undefined when it can: the device
 * exists, the host has an IOMMU, vfio-pci is loaded, and every other device of its IOMMU group is unbound or
 * held by vfio-pci, pci-stub or a PCIe port driver (`alsoAssigned`: devices this start assigns too).
 */
export async function vfioProblem(address: string, opts: SysfsOptions & { readonly alsoAssigned?: readonly string[] } = {}): Promise<string | undefined> {
  if (!(await exists(devicePath(address, opts)))) return `Host PCI device ${address} does not exist: check the address with lspci -D`;
  if (!(await iommuActive(opts))) {
    return `Cannot assign ${address}: the host has no IOMMU in use (/sys/kernel/iommu_groups is empty); enable VT-d/AMD-Vi in the firmware and boot with intel_iommu=on (or amd_iommu=on) iommu=pt`;
  }
  if (!(await vfioPciLoaded(opts))) return `Cannot assign ${address}: the vfio-pci driver is not loaded; load it with modprobe vfio-pci (and list it in /etc/modules to keep it)`;
  const { group, peers } = await iommuGroupPeers(address, opts);
  if (group === undefined) return `Cannot assign ${address}: it is in no IOMMU group (/sys/bus/pci/devices/${address}/iommu_group is missing)`;
  const busy = peers.filter((p) => p.driver !== undefined && !GROUP_SAFE_DRIVERS.has(p.driver) && !(opts.alsoAssigned ?? []).includes(p.address));
  if (busy.length > 0) {
    const list = busy.map((p) => `${p.address} (${p.driver ?? ''})`).join(', ');
    return `Cannot assign ${address}: IOMMU group ${group} also holds ${list}, still used by the host; assign those devices to the guest too, or unbind them`;
  }
  return undefined;
}

async function write(opts: SysfsOptions, path: string, value: string, what: string): Promise<void> {
  try {
    await (opts.writeFile ?? writeFile)(path, value);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new VmkitError('HostError', `Cannot ${what}: writing ${JSON.stringify(value.trim())} to ${path} failed with ${code}${code === 'EACCES' || code === 'EPERM' ? ' (needs root)' : ''}`, {
      cause: e,
      details: { path, errno: code },
    });
  }
}

/** What binding changed, so that `giveBack` can undo exactly that. */
export interface VfioBinding {
  readonly address: string;
  /** The driver the device had before (undefined: none). */
  readonly previousDriver: string | undefined;
  /** False when the device was on vfio-pci already: nothing to give back. */
  readonly changed: boolean;
}

/** Binds `address` to vfio-pci (driver_override, unbind, drivers_probe) and checks that it took. */
export async function bindToVfio(address: string, opts: SysfsOptions = {}): Promise<VfioBinding> {
  const previousDriver = await currentDriver(address, opts);
  if (previousDriver === VFIO_DRIVER) return { address, previousDriver, changed: false };
  const dev = devicePath(address, opts);
  await write(opts, join(dev, 'driver_override'), VFIO_DRIVER, `make vfio-pci the driver of ${address}`);
  if (previousDriver !== undefined) await write(opts, join(dev, 'driver/unbind'), address, `unbind ${address} from ${previousDriver}`);
  await write(opts, join(root(opts), 'bus/pci/drivers_probe'), address, `bind ${address} to vfio-pci`);
  const now = await currentDriver(address, opts);
  if (now !== VFIO_DRIVER) {
    await giveBack({ address, previousDriver, changed: true }, opts).catch(() => undefined);
    throw new VmkitError('HostError', `Cannot bind ${address} to vfio-pci: after drivers_probe it is bound to ${now ?? 'no driver'} (see dmesg)`, { details: { address, driver: now } });
  }
  return { address, previousDriver, changed: true };
}

/**
 * Gives a device back after the guest: clears the override, unbinds it from vfio-pci and lets the kernel
 * probe its own driver again. Idempotent: a device already off vfio-pci, or gone, is left as it is.
 */
export async function giveBack(binding: VfioBinding, opts: SysfsOptions = {}): Promise<void> {
  if (!binding.changed) return;
  const dev = devicePath(binding.address, opts);
  if (!(await exists(dev))) return;
  await write(opts, join(dev, 'driver_override'), '\n', `clear the driver override of ${binding.address}`);
  const now = await linkName(join(dev, 'driver'));
  if (now === VFIO_DRIVER) await write(opts, join(dev, 'driver/unbind'), binding.address, `unbind ${binding.address} from vfio-pci`);
  if (now === VFIO_DRIVER || now === undefined) {
    if (binding.previousDriver !== undefined) await write(opts, join(root(opts), 'bus/pci/drivers_probe'), binding.address, `give ${binding.address} back to ${binding.previousDriver}`);
  }
}

/** SR-IOV facts of a virtual function: its physical function, its VF number there, and the PF's network interface. */
export interface VfInfo {
  readonly pf: string;
  readonly vf: number;
  readonly pfNetdev: string | undefined;
}

/** The PF, VF index and PF interface of `address`, or undefined when it is not an SR-IOV virtual function. */
export async function virtualFunctionInfo(address: string, opts: SysfsOptions = {}): Promise<VfInfo | undefined> {
  const dev = devicePath(address, opts);
  const pf = await linkName(join(dev, 'physfn'));
  if (pf === undefined) return undefined;
  const pfDir = join(root(opts), 'bus/pci/devices', pf);
  let vf: number | undefined;
  for (const entry of await readdir(pfDir)) {
    const m = /^virtfn(\d+)$/.exec(entry);
    if (m !== null && (await linkName(join(pfDir, entry))) === address) vf = Number(m[1]);
  }
  if (vf === undefined) return undefined;
  const nets = await readdir(join(pfDir, 'net')).catch(() => [] as string[]);
  return { pf, vf, pfNetdev: nets[0] };
}

/** The interface index of a network interface (`/sys/class/net/<name>/ifindex`). */
export async function ifIndex(name: string, opts: SysfsOptions = {}): Promise<number> {
  const text = await readFile(join(root(opts), 'class/net', name, 'ifindex'), 'utf8');
  return Number(text.trim());
}
