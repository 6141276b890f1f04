/**
 * The closed value lists of the native definition format: the schema (schema.ts) builds its enums from them,
 * and the resolvers and the libvirt reader check values against them without loading the schema (a
 * definition's fast path never does). Pure data.
 */
export const SCHED_POLICIES = ['other', 'batch', 'idle', 'fifo', 'rr'] as const;
export const NUMA_MODES = ['strict', 'preferred', 'interleave'] as const;
export const DISK_FORMATS = ['raw', 'qcow2', 'qcow', 'vmdk', 'vdi', 'vhdx', 'vpc', 'qed', 'luks'] as const;
export const DISK_BUSES = ['virtio', 'scsi', 'sata', 'ide'] as const;
export const DISK_CACHES = ['none', 'writeback', 'writethrough', 'directsync', 'unsafe'] as const;
export const DISK_AIOS = ['threads', 'native', 'io_uring'] as const;
export const NIC_MODELS = ['virtio', 'e1000', 'e1000e', 'rtl8139'] as const;
export const BOOT_DEVICES = ['disk', 'cdrom', 'network'] as const;
export const CONTROLLER_TYPES = ['pci', 'usb', 'scsi', 'sata', 'virtio-serial'] as const;
export const PCI_CONTROLLER_MODELS = ['pcie-root-port', 'pci-bridge', 'dmi-to-pci-bridge', 'pcie-to-pci-bridge'] as const;
export const USB_CONTROLLER_MODELS = ['qemu-xhci', 'nec-xhci', 'piix3-uhci', 'piix4-uhci', 'ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3'] as const;
export const LIFECYCLE_ACTIONS = ['destroy', 'restart', 'preserve'] as const;
