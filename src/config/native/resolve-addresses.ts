/**
 * Native YAML: `controllers` and the guest addresses of devices. Controllers are checked against the machine
 * (PCIe root ports need q35; the machine's own root bus, q35's SATA and pc's IDE are built in and never
 * listed); addresses must name a bus that exists, a slot that bus has, a place nothing else (the machine
 * included) holds, and a drive place the disk's controller has. Pure.
 */
import type { Static } from '@sinclair/typebox';
import type {
  BalloonSpec,
  ControllerSpec,
  DiskSpec,
  DriveAddressSpec,
  GraphicsSpec,
  HostdevSpec,
  MachineSpec,
  NicSpec,
  PciAddressSpec,
  PciControllerModel,
  RngSpec,
  UsbControllerModel,
} from '../../model/domain.js';
import type { InputSpec } from '../../model/domain.js';
import { BUILTIN_FUNCTIONS, busSlots, formatPciAddress, parseAddress, parseUsbAddress, pciRoot, Q35_SATA_SLOT } from '../../model/pci.js';
import { child } from '../pointer.js';
import type { Loose, ResolveContext } from '../resolve-context.js';
import type { ControllerInput, InputInput } from './schema.js';
import { PCI_CONTROLLER_MODELS, USB_CONTROLLER_MODELS } from './vocabulary.js';

/** A native address string (already matched by the schema's pattern) -> its spec. */
export function resolveAddress(text: string | undefined): PciAddressSpec | DriveAddressSpec | undefined {
  return text === undefined ? undefined : parseAddress(text);
}

export function resolvePciAddress(text: string | undefined): PciAddressSpec | undefined {
  const a = resolveAddress(text);
  return a?.type === 'pci' ? a : undefined;
}

const Q35_ONLY = new Set<string>(['pcie-root-port', 'dmi-to-pci-bridge', 'pcie-to-pci-bridge']);
const XHCI = new Set<string>(['qemu-xhci', 'nec-xhci']);

export function resolveControllers(input: Loose<readonly (Static<typeof ControllerInput> | undefined)[]> | undefined, machine: MachineSpec, ctx: ResolveContext): ControllerSpec[] {
  const out: ControllerSpec[] = [];
  const root = pciRoot(machine.type);
  const seen = new Map<string, number>();
  (input ?? []).forEach((c, i) => {
    if (c === undefined || c.type === undefined) return;
    const at = child('/controllers', i);
    const index = c.index ?? 0;
    const address = resolvePciAddress(c.address);
    const key = `${c.type}:${index}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      ctx.problems.add(child(at, 'index'), { message: `There is already a ${c.type} controller with index ${index} (controllers[${prev}]); give each its own index`, found: String(index) });
      return;
    }
    seen.set(key, i);
    const bad = (field: string, message: string, found?: string): void => ctx.problems.add(child(at, field), { message, ...(found === undefined ? {} : { found }) });
    const only = (field: 'chassis' | 'port' | 'ports' | 'master_startport', allowed: boolean, what: string): void => {
      if (c[field] !== undefined && !allowed) bad(field, `${field} applies to ${what} only`, String(c[field]));
    };
    const addr = address === undefined ? {} : { address };
    switch (c.type) {
      case 'pci': {
        const model = c.model;
        if (model === undefined || !(PCI_CONTROLLER_MODELS as readonly string[]).includes(model)) {
          bad('model', `A pci controller needs its model: ${PCI_CONTROLLER_MODELS.join(', ')}`, model);
          return;
        }
        if (index === 0) {
          bad('index', `PCI bus 0 is the machine's own root bus (${root === 'q35' ? 'pcie-root' : 'pci-root'}) and is never listed; give the ${model} an index from 1`, '0');
          return;
        }
        if (root === 'none' || (Q35_ONLY.has(model) && root !== 'q35')) {
          bad('model', `A ${model} needs a ${Q35_ONLY.has(model) ? 'q35' : 'pc or q35'} machine; ${machine.type} ${root === 'none' ? 'has no PCI bus' : 'has a conventional PCI root: use pci-bridge'}`, model);
          return;
        }
        only('chassis', model === 'pcie-root-port' || model === 'pci-bridge', 'pcie-root-port and pci-bridge');
        only('port', model === 'pcie-root-port', 'pcie-root-port');
        only('ports', false, 'USB xhci controllers');
        only('master_startport', false, 'ich9-uhci USB controllers');
        out.push({
          type: 'pci',
          index,
          model: model as PciControllerModel,
          ...(c.chassis === undefined ? {} : { chassis: c.chassis }),
          ...(c.port === undefined ? {} : { port: c.port }),
          ...addr,
        });
        return;
      }
      case 'usb': {
        const model = c.model ?? (root === 'pc' ? 'piix3-uhci' : 'qemu-xhci');
        if (!(USB_CONTROLLER_MODELS as readonly string[]).includes(model)) {
          bad('model', `Not a USB controller model; use one of ${USB_CONTROLLER_MODELS.join(', ')}`, model);
          return;
        }
        if (root === 'none') {
          bad('type', `Machine ${machine.type} has no PCI bus for a USB controller`, 'usb');
          return;
        }
        only('chassis', false, 'pcie-root-port and pci-bridge');
        only('port', false, 'pcie-root-port');
        only('ports', XHCI.has(model), 'USB xhci controllers (qemu-xhci, nec-xhci)');
        only('master_startport', model.startsWith('ich9-uhci'), 'ich9-uhci USB controllers');
        out.push({
          type: 'usb',
          index,
          model: model as UsbControllerModel,
          ...(c.ports === undefined ? {} : { ports: c.ports }),
          ...(c.master_startport === undefined ? {} : { masterStartPort: c.master_startport }),
          ...addr,
        });
        return;
      }
      case 'scsi':
        if (c.model !== undefined && c.model !== 'virtio-scsi') {
          bad('model', "vmkit's SCSI controllers are virtio-scsi", c.model);
          return;
        }
        // scsi0 without an address is the controller vmkit adds for SCSI disks anyway.
        if (index !== 0 || address !== undefined) out.push({ type: 'scsi', index, model: 'virtio-scsi', ...addr });
        return;
      case 'sata':
        if (index !== 0) {
          bad('index', 'vmkit has one SATA controller, index 0', String(index));
          return;
        }
        if (root === 'q35') {
          // q35's own ICH9 AHCI: listed by libvirt at 00:1f.2, no QEMU option.
          if (address !== undefined && (address.bus !== 0 || address.slot !== Q35_SATA_SLOT.slot || address.function !== Q35_SATA_SLOT.fn)) {
            bad('address', "q35's SATA controller is built in at pci:0000:00:1f.2; it cannot move", c.address);
          }
          return;
        }
        if (root !== 'pc') {
          bad('type', `Machine ${machine.type} has no PCI bus for a SATA controller`, 'sata');
          return;
        }
        out.push({ type: 'sata', index, ...addr });
        return;
      case 'virtio-serial':
        if (root === 'none') {
          bad('type', `Machine ${machine.type} has no PCI bus for a virtio-serial controller`, 'virtio-serial');
          return;
        }
        out.push({ type: 'virtio-serial', index, ...addr });
        return;
    }
  });
  // QEMU registers each root port's (chassis, slot 0) and each bridge's chassis_nr once, and refuses chassis_nr 0.
  const chassis = new Map<string, number>();
  out.forEach((c) => {
    if (c.type !== 'pci' || (c.model !== 'pcie-root-port' && c.model !== 'pci-bridge')) return;
    const i = (input ?? []).findIndex((x) => x?.type === 'pci' && (x.index ?? 0) === c.index);
    const at = child(child('/controllers', i), c.chassis === undefined ? 'index' : 'chassis');
    const n = c.chassis ?? c.index;
    if (c.model === 'pci-bridge' && n === 0) {
      ctx.problems.add(at, { message: 'A pci-bridge needs a chassis number from 1 (QEMU refuses chassis_nr 0)', found: '0' });
      return;
    }
    const prev = chassis.get(`${c.model}:${n}`);
    if (prev !== undefined) ctx.problems.add(at, { message: `Chassis ${n} is already used by the ${c.model} with index ${prev}; give each its own chassis`, found: String(n) });
    else chassis.set(`${c.model}:${n}`, c.index);
  });
  for (const u of out) {
    if (u.type === 'usb' && u.model.startsWith('ich9-uhci') && !out.some((e) => e.type === 'usb' && e.index === u.index && e.model === 'ich9-ehci1')) {
      ctx.problems.add(child('/controllers', out.indexOf(u)), { message: `An ${u.model} is a companion of an ich9-ehci1 with the same index (${u.index}); add that controller` });
    }
  }
  return out;
}

/** USB inputs: each on a USB controller that exists (index 0 without an address), one device per port. */
export function resolveInputs(input: Loose<readonly (Static<typeof InputInput> | undefined)[]> | undefined, controllers: readonly ControllerSpec[], ctx: ResolveContext): InputSpec[] {
  const out: InputSpec[] = [];
  const ports = new Map<string, number>();
  (input ?? []).forEach((d, i) => {
    if (d === undefined || d.type === undefined) return;
    const at = child('/inputs', i);
    const address = d.address === undefined ? undefined : parseUsbAddress(d.address);
    const bus = address?.bus ?? 0;
    const usb = controllers.some((c) => c.type === 'usb' && c.index === bus && !c.model.startsWith('ich9-uhci'));
    if (!usb) {
      ctx.problems.add(child(at, address === undefined ? 'type' : 'address'), {
        message: `A USB ${d.type} needs USB controller ${bus}: add {type: usb${bus === 0 ? '' : `, index: ${bus}`}} to controllers (libvirt: <controller type='usb' model='qemu-xhci'/>)`,
        found: d.type,
      });
    }
    if (address !== undefined) {
      const key = `${address.bus}:${address.port}`;
      const prev = ports.get(key);
      if (prev !== undefined) ctx.problems.add(child(at, 'address'), { message: `USB port ${address.port} of bus ${address.bus} is already used by inputs[${prev}]`, found: JSON.stringify(d.address) });
      else ports.set(key, i);
    }
    out.push({ type: d.type, bus: 'usb', ...(address === undefined ? {} : { address }) });
  });
  return out;
}

interface AddressEnv {
  readonly machine: MachineSpec;
  readonly controllers: readonly ControllerSpec[];
  readonly disks: readonly DiskSpec[];
  readonly nics: readonly NicSpec[];
  readonly hostdevs: readonly HostdevSpec[];
  readonly balloon: BalloonSpec | undefined;
  readonly rngs: readonly RngSpec[];
  readonly graphics: GraphicsSpec;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** Every guest address the spec names, checked together. */
export function checkAddresses(env: AddressEnv, ctx: ResolveContext): void {
  const root = pciRoot(env.machine.type);
  const pciPlaces: { pointer: string; who: string; a: PciAddressSpec }[] = [];
  const add = (pointer: string, who: string, a: PciAddressSpec | undefined): void => {
    if (a !== undefined) pciPlaces.push({ pointer, who, a });
  };
  env.controllers.forEach((c, i) => add(child(child('/controllers', i), 'address'), `controllers[${i}] (${c.type === 'pci' ? c.model : c.type})`, c.address));
  env.disks.forEach((d, i) => {
    const at = child(child('/disks', i), 'address');
    if (d.address === undefined) return;
    if (d.bus === 'virtio' && d.address.type !== 'pci') {
      ctx.problems.add(at, { message: 'A virtio disk is a PCI device: give it a pci: address (drive: addresses are for scsi, sata and ide disks)', found: d.address.type });
    } else if (d.bus !== 'virtio' && d.address.type !== 'drive') {
      ctx.problems.add(at, { message: `A ${d.bus} disk sits on its controller: give it a drive:CONTROLLER:BUS:TARGET:UNIT address (pci: addresses are for virtio disks)`, found: d.address.type });
    } else if (d.address.type === 'pci') {
      add(at, `disks[${i}]`, d.address);
    }
  });
  env.nics.forEach((n, i) => add(child(child('/nics', i), 'address'), `nics[${i}]`, n.address));
  env.hostdevs.forEach((h, i) => add(child(child('/hostdevs', i), 'address'), `hostdevs[${i}]`, h.address));
  add('/balloon/address', 'the balloon', env.balloon?.address);
  env.rngs.forEach((r, i) => add(child(child('/rngs', i), 'address'), `rngs[${i}]`, r.address));
  if (env.graphics.type === 'vnc') add('/graphics/video_address', 'the VGA card', env.graphics.videoAddress);

  const buses = new Map<number, 'root' | PciControllerModel>();
  if (root !== 'none') buses.set(0, 'root');
  for (const c of env.controllers) if (c.type === 'pci') buses.set(c.index, c.model);

  const used = new Map<string, string>();
  if (root !== 'none') for (const b of BUILTIN_FUNCTIONS[root]) used.set(`0:${b.slot}.${b.fn}`, b.what);
  const slotsUsed = new Map<string, { fns: Set<number>; multifunction: boolean; first: { pointer: string; a: PciAddressSpec } }>();
  for (const { pointer, who, a } of pciPlaces) {
    const text = formatPciAddress(a);
    const problem = (message: string, expected?: string): void => ctx.problems.add(pointer, { message, found: JSON.stringify(text), ...(expected === undefined ? {} : { expected }) });
    if (root === 'none') {
      problem(`Machine ${env.machine.type} has no PCI bus; remove the address (or use machine q35 or pc)`);
      continue;
    }
    if (a.domain !== 0) {
      problem('vmkit guests have one PCI domain, 0000', 'pci:0000:...');
      continue;
    }
    const model = buses.get(a.bus);
    if (model === undefined) {
      const known = [...buses.keys()].sort((x, y) => x - y).map((b) => hex2(b));
      problem(`There is no PCI bus ${hex2(a.bus)}: the bus of an address is the index of a pci controller; add a controller {type: pci, model: ${root === 'q35' ? 'pcie-root-port' : 'pci-bridge'}, index: ${a.bus}}`, `bus ${known.join(', ')}`);
      continue;
    }
    const range = busSlots(model);
    if (a.slot < range.min || a.slot > range.max) {
      const what = model === 'root' ? `the root bus` : `a ${model}`;
      problem(`Slot ${hex2(a.slot)} does not exist on ${what} (bus ${hex2(a.bus)})`, range.min === range.max ? `slot ${hex2(range.min)}` : `slots ${hex2(range.min)}-${hex2(range.max)}`);
      continue;
    }
    const key = `${a.bus}:${a.slot}.${a.function}`;
    const prev = used.get(key);
    if (prev !== undefined) {
      problem(`PCI address ${text.replace(/,.*/, '')} is already taken by ${prev}; give each device its own slot or function`);
      continue;
    }
    used.set(key, who);
    const sk = `${a.bus}:${a.slot}`;
    const s = slotsUsed.get(sk) ?? { fns: new Set<number>(), multifunction: false, first: { pointer, a } };
    s.fns.add(a.function);
    if (a.function === 0 && a.multifunction === true) s.multifunction = true;
    slotsUsed.set(sk, s);
  }
  for (const [sk, s] of slotsUsed) {
    const [bus, slot] = sk.split(':').map(Number) as [number, number];
    const builtin = bus === 0 && root !== 'none' && BUILTIN_FUNCTIONS[root].some((b) => b.slot === slot);
    if (builtin || ![...s.fns].some((f) => f !== 0)) continue;
    if (!s.fns.has(0) || !s.multifunction) {
      ctx.problems.add(s.first.pointer, {
        message: `Slot ${hex2(bus)}:${hex2(slot)} holds several functions, so function 0 must be there and say multifunction (pci:0000:${hex2(bus)}:${hex2(slot)}.0,multifunction=on); QEMU refuses the other functions otherwise`,
      });
    }
  }
  // The parent bus of a PCI controller comes first, as in libvirt (QEMU creates the buses in that order).
  env.controllers.forEach((c, i) => {
    if (c.type !== 'pci' || c.address === undefined) return;
    const parent = buses.get(c.address.bus);
    const at = child(child('/controllers', i), 'address');
    if (parent === undefined) return;
    if (c.address.bus >= c.index) {
      ctx.problems.add(at, { message: `A PCI controller sits on a bus with a lower index than its own (${c.index})`, found: JSON.stringify(formatPciAddress(c.address)) });
    } else if ((c.model === 'pcie-root-port' || c.model === 'dmi-to-pci-bridge') && parent !== 'root') {
      ctx.problems.add(at, { message: `A ${c.model} plugs into the PCIe root bus (bus 00)`, found: JSON.stringify(formatPciAddress(c.address)) });
    } else if (c.model === 'pcie-to-pci-bridge' && parent !== 'root' && parent !== 'pcie-root-port') {
      ctx.problems.add(at, { message: 'A pcie-to-pci-bridge plugs into the PCIe root bus or a pcie-root-port', found: JSON.stringify(formatPciAddress(c.address)) });
    }
  });
  checkDriveAddresses(env, ctx);
}

function checkDriveAddresses(env: AddressEnv, ctx: ResolveContext): void {
  const root = pciRoot(env.machine.type);
  const taken = new Map<string, number>();
  env.disks.forEach((d, i) => {
    const a = d.address;
    if (a === undefined || a.type !== 'drive' || d.bus === 'virtio') return;
    const at = child(child('/disks', i), 'address');
    const text = JSON.stringify(`drive:${a.controller}:${a.bus}:${a.target}:${a.unit}`);
    const problem = (message: string, expected: string): void => ctx.problems.add(at, { message, expected, found: text });
    if (d.bus === 'sata') {
      if (root === 'none') return problem(`Machine ${env.machine.type} has no SATA controller`, 'machine q35 or pc');
      if (a.controller !== 0 || a.bus !== 0 || a.target !== 0 || a.unit > 5) return problem('A SATA disk sits on port UNIT (0-5) of SATA controller 0', 'drive:0:0:0:UNIT with UNIT 0-5');
    } else if (d.bus === 'ide') {
      if (root !== 'pc') return problem(`Machine ${env.machine.type} has no IDE controller (q35's disks use SATA): use bus sata, or remove the address`, 'bus sata');
      if (a.controller !== 0 || a.bus > 1 || a.target !== 0 || a.unit > 1) return problem('An IDE disk sits on bus 0-1, unit 0-1 of IDE controller 0', 'drive:0:BUS:0:UNIT with BUS and UNIT 0 or 1');
    } else {
      const declared = a.controller === 0 || env.controllers.some((c) => c.type === 'scsi' && c.index === a.controller);
      if (!declared) return problem(`There is no SCSI controller ${a.controller}: add {type: scsi, index: ${a.controller}} to controllers`, 'a listed SCSI controller');
      if (a.bus !== 0 || a.target > 255 || a.unit > 16383) return problem('A virtio-scsi disk sits at bus 0, target (SCSI id) 0-255, unit (LUN) 0-16383', 'drive:CONTROLLER:0:TARGET:UNIT');
    }
    const key = `${d.bus === 'ide' ? 'ide' : d.bus}:${a.controller}:${a.bus}:${a.target}:${a.unit}`;
    const prev = taken.get(key);
    if (prev !== undefined) return problem(`disks[${prev}] is already at this place`, 'a free place on the controller');
    taken.set(key, i);
    return undefined;
  });
}
