/**
 * Controllers that are QEMU devices of their own, before any device that sits on them: PCIe root ports and
 * PCI bridges (bus `pci.<index>`, in index order, so a bridge's parent bus exists first), USB controllers
 * (`usb` for index 0, as libvirt) and virtio-serial controllers (`virtio-serial<index>`). SCSI and SATA
 * controllers go with the disks (disks.ts).
 */

import type { ControllerSpec, DomainSpec, UsbControllerModel } from '../../model/domain.js';
import { formatOpts, type OptEntry } from '../escape.js';
import type { PciPlacer } from './pci-plan.js';

const PCI_DRIVER = {
  'pcie-root-port': 'pcie-root-port',
  'pci-bridge': 'pci-bridge',
  'dmi-to-pci-bridge': 'i82801b11-bridge',
  'pcie-to-pci-bridge': 'pcie-pci-bridge',
} as const;

const USB_DRIVER: Readonly<Record<UsbControllerModel, string>> = {
  'qemu-xhci': 'qemu-xhci',
  'nec-xhci': 'nec-usb-xhci',
  'piix3-uhci': 'piix3-usb-uhci',
  'piix4-uhci': 'piix4-usb-uhci',
  'ich9-ehci1': 'ich9-usb-ehci1',
  'ich9-uhci1': 'ich9-usb-uhci1',
  'ich9-uhci2': 'ich9-usb-uhci2',
  'ich9-uhci3': 'ich9-usb-uhci3',
};

/** The QEMU id of USB controller `index` (its bus is `<id>.0`). */
export function usbControllerId(index: number): string {
  return index === 0 ? 'usb' : `usb${index}`;
}

export function controllerArgs(spec: DomainSpec, pci: PciPlacer): string[] {
  const all = spec.controllers ?? [];
  const pciCtrls = all.filter((c): c is Extract<ControllerSpec, { type: 'pci' }> => c.type === 'pci').sort((a, b) => a.index - b.index);
  // An EHCI controller before its UHCI companions (they name its bus).
  const usb = all.filter((c): c is Extract<ControllerSpec, { type: 'usb' }> => c.type === 'usb').sort((a, b) => a.index - b.index || Number(a.model.startsWith('ich9-uhci')) - Number(b.model.startsWith('ich9-uhci')));
  const out: string[] = [];
  for (const c of pciCtrls) {
    const where = pci.opts(c.address, `controllers.pci[${c.index}]`);
    const id = pci.busId(c.index);
    const opts: OptEntry[] =
      c.model === 'pcie-root-port'
        ? [['port', c.port ?? c.index], ['chassis', c.chassis ?? c.index], ['id', id], ...where]
        : c.model === 'pci-bridge'
          ? [['chassis_nr', c.chassis ?? c.index], ['id', id], ...where]
          : [['id', id], ...where];
    out.push('-device', formatOpts(PCI_DRIVER[c.model], opts));
  }
  for (const c of usb) {
    const companion = c.model.startsWith('ich9-uhci');
    out.push(
      '-device',
      formatOpts(USB_DRIVER[c.model], [
        ['p2', c.ports],
        ['p3', c.ports],
        ['masterbus', companion ? `${usbControllerId(c.index)}.0` : undefined],
        ['firstport', companion ? (c.masterStartPort ?? 0) : undefined],
        ['id', companion ? undefined : usbControllerId(c.index)],
        ...pci.opts(c.address, `controllers.usb[${c.index}]`),
      ]),
    );
  }
  for (const c of all) {
    if (c.type !== 'virtio-serial') continue;
    out.push('-device', formatOpts('virtio-serial-pci', [['id', `virtio-serial${c.index}`], ...pci.opts(c.address, `controllers.virtio-serial[${c.index}]`)]));
  }
  return out;
}
