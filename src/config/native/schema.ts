/**
 * The native vmkit YAML definition format as a TypeBox schema: the single source of the ajv validator and of
 * the editor-facing JSON Schema (`schema/vmkit-domain.schema.json`, written by `npm run schema`).
 * Keys are snake_case; unknown keys are errors everywhere. Pure.
 */
import { Type, type Static, type TProperties, type TUnsafe } from '@sinclair/typebox';
import { PATTERNS, type NamedPattern } from '../patterns.js';
import { SCHED_POLICIES, NUMA_MODES, DISK_FORMATS, DISK_BUSES, DISK_CACHES, DISK_AIOS, NIC_MODELS, BOOT_DEVICES, CONTROLLER_TYPES, PCI_CONTROLLER_MODELS, USB_CONTROLLER_MODELS, LIFECYCLE_ACTIONS } from './vocabulary.js';

export * from './vocabulary.js';

export const SCHEMA_ID = 'urn:vmkit:schema:domain-definition:v1';

/** A mapping that rejects unknown keys. */
function obj<P extends TProperties>(properties: P, description: string) {
  return Type.Object(properties, { additionalProperties: false, description });
}

/** A string enum, validated with a single `enum` keyword (clean error messages, editor completion). */
function oneOf<const V extends readonly string[]>(values: V, description: string): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ type: 'string', enum: [...values], description });
}

function str(pattern: NamedPattern, description: string) {
  return Type.String({ pattern: pattern.source, description });
}

function text(description: string) {
  return Type.String({ minLength: 1, description });
}

function size(description: string) {
  return Type.Union(
    [Type.String({ minLength: 1, description: 'A size with a unit: "512M", "2G", "1536MiB" (units are powers of 1024).' }),
     Type.Integer({ minimum: 1, description: 'A size in MiB.' })],
    { description: `${description} A string with a unit ("512M", "2G") or a number of MiB.` },
  );
}

function cpuSet(description: string) {
  return Type.Union(
    [Type.String({ minLength: 1, description: 'A cpuset: "0-3,^2,6" (ranges, `^` excludes).' }),
     Type.Integer({ minimum: 0, description: 'A single host CPU number.' })],
    { description: `${description} A cpuset string like "0-3,^2,6" or a single number.` },
  );
}


// ---- guest device addresses and controllers ----
/** An optional guest PCI address on a device. */
const pciAddress = (what = 'the device') =>
  Type.Optional(str(PATTERNS.guestPci, `Where the guest sees ${what}: pci:DOMAIN:BUS:SLOT.FUNCTION in hex, e.g. pci:0000:00:03.0; BUS is the index of a PCI controller (0: the root bus). Default: vmkit places it.`));
export const InputInput = obj(
  {
    type: oneOf(['tablet', 'mouse', 'keyboard'] as const, 'tablet (absolute pointer, what VNC clients want), mouse or keyboard.'),
    bus: Type.Optional(oneOf(['usb'] as const, 'usb (default; the PS/2 mouse and keyboard are always there and never listed).')),
    address: Type.Optional(str(PATTERNS.usbAddress, 'Where it plugs in: usb:BUS:PORT, BUS the index of a USB controller, e.g. usb:0:1. Default: QEMU picks a free port of USB controller 0.')),
  },
  'A USB input device (usb-tablet, usb-mouse, usb-kbd); needs a USB controller.',
);

export const ControllerInput = obj(
  {
    type: oneOf(CONTROLLER_TYPES, 'pci (a root port or bridge: a new PCI bus), usb, scsi (virtio-scsi), sata (AHCI; built into q35) or virtio-serial.'),
    index: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, description: 'The controller\'s index among those of its type (default 0; a pci controller needs one from 1: it is the bus number its devices name).' })),
    model: Type.Optional(
      oneOf([...PCI_CONTROLLER_MODELS, ...USB_CONTROLLER_MODELS, 'virtio-scsi'] as const, 'pci: pcie-root-port, pci-bridge, dmi-to-pci-bridge or pcie-to-pci-bridge (required); usb: qemu-xhci (q35 default), piix3-uhci (pc default), nec-xhci, piix4-uhci, ich9-ehci1, ich9-uhci1-3; scsi: virtio-scsi.'),
    ),
    chassis: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, description: 'pcie-root-port, pci-bridge: chassis number (default: the index).' })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, description: 'pcie-root-port: port number (default: the index).' })),
    ports: Type.Optional(Type.Integer({ minimum: 1, maximum: 15, description: 'qemu-xhci, nec-xhci: USB ports of each kind (p2, p3).' })),
    master_startport: Type.Optional(Type.Integer({ minimum: 0, maximum: 5, description: 'ich9-uhci1-3: the first port of the ich9-ehci1 (same index) this companion serves: 0, 2 or 4.' })),
    address: pciAddress('the controller'),
  },
  'A controller: a PCIe root port or PCI bridge (a bus for devices to sit on), a USB, SCSI, SATA or virtio-serial controller.',
);

const Sched = obj(
  {
    policy: oneOf(SCHED_POLICIES, 'Linux scheduling policy: other, batch, idle, fifo or rr (deadline is not supported).'),
    priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 99, description: 'Real-time priority 1-99; required for fifo and rr, not allowed for the others.' })),
  },
  'Scheduling policy and priority for a group of QEMU threads (like chrt).',
);

const Account = Type.Union(
  [str(PATTERNS.account, 'A user or group name.'), Type.Integer({ minimum: 0, maximum: 4294967294, description: 'A numeric id.' })],
  { description: 'A name or a numeric id.' },
);

export const MachineInput = Type.Union(
  [
    str(PATTERNS.machineType, 'Machine type shorthand, e.g. `machine: q35`.'),
    obj(
      {
        type: Type.Optional(str(PATTERNS.machineType, 'QEMU machine type (default q35): q35, pc, microvm, or a versioned type like pc-q35-7.2.')),
        accel: Type.Optional(oneOf(['kvm', 'tcg', 'auto'] as const, 'Accelerator: kvm, tcg, or auto (KVM when usable, else TCG; default).')),
      },
      'Machine type and accelerator.',
    ),
  ],
  { description: 'The QEMU machine: a type name like `q35`, or {type, accel}.' },
);

export const CpuInput = obj(
  {
    model: Type.Optional(str(PATTERNS.cpuModel, 'QEMU CPU model: host, max, qemu64, Skylake-Client, ... (default: QEMU\'s default for the machine).')),
    vcpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'Number of vCPUs (default 1, or sockets*cores*threads when those are given).' })),
    sockets: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'vCPU sockets (default 1).' })),
    cores: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'Cores per socket (default vcpus/(sockets*threads)).' })),
    threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'Threads per core (default 1).' })),
    max_vcpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'vCPUs the guest can have (-smp maxcpus=), at least vcpus; the ones above vcpus start unplugged. The topology then multiplies out to max_vcpus (default: vcpus).' })),
    features: Type.Optional(
      Type.Record(Type.String({ pattern: PATTERNS.cpuFeature.source }), Type.Boolean({ description: 'true: on, false: off.' }), {
        additionalProperties: false,
        description: 'CPU feature flags on top of the model, e.g. {vmx: true, hypervisor: false} (-cpu <model>,vmx=on,hypervisor=off); needs model.',
      }),
    ),
  },
  'Guest CPU model and topology; sockets*cores*threads must equal vcpus (or max_vcpus).',
);

export const MemoryBackingInput = obj(
  {
    hugepages: Type.Optional(
      Type.Union(
        [
          Type.Boolean({ description: 'true: back guest RAM with hugepages of the host\'s default size.' }),
          obj(
            {
              page_size: Type.Optional(size('Hugepage size, e.g. "2M" or "1G" (default: the host\'s default hugepage size).')),
              path: Type.Optional(text('A hugetlbfs mount point to allocate from (relative paths are resolved against the definition file\'s directory).')),
            },
            'Hugepage settings.',
          ),
        ],
        { description: 'Back guest RAM with hugetlbfs pages: true, or {page_size, path}.' },
      ),
    ),
    prealloc: Type.Optional(Type.Boolean({ description: 'Allocate all guest RAM when QEMU starts (default false).' })),
    locked: Type.Optional(Type.Boolean({ description: 'Lock guest RAM in host memory, never swapped (default false; may need tuning.rlimit_memlock).' })),
  },
  'How guest RAM is backed on the host.',
);

export const NumaInput = obj(
  {
    mode: Type.Optional(oneOf(NUMA_MODES, 'strict (default), preferred or interleave.')),
    nodes: cpuSet('Host NUMA nodes to allocate guest memory from, e.g. "0-1".'),
  },
  'Host NUMA binding of guest memory (like libvirt numatune).',
);

export const NumaCellInput = obj(
  {
    vcpus: cpuSet('vCPUs in this guest NUMA cell, e.g. "0-1"; every vCPU must be in exactly one cell.'),
    memory: size('Memory of this cell; the cells\' memory must add up to `memory`.'),
    host_nodes: Type.Optional(cpuSet('Host NUMA nodes backing this cell\'s memory (overrides `numa.nodes` for the cell).')),
    mode: Type.Optional(oneOf(NUMA_MODES, 'Binding mode for host_nodes: strict, preferred or interleave.')),
  },
  'One guest NUMA cell; its id is its position in the list.',
);

export const KernelBootInput = obj(
  {
    kernel: text('Kernel image for direct kernel boot (-kernel); relative paths are resolved against the definition file\'s directory.'),
    initrd: Type.Optional(text('Initial ramdisk (-initrd); relative paths are resolved against the definition file\'s directory.')),
    cmdline: Type.Optional(Type.String({ description: 'Kernel command line (-append).' })),
  },
  'Direct kernel boot.',
);

export const PflashInput = obj(
  {
    code: text('Firmware code image in flash (pflash0), e.g. /usr/share/OVMF/OVMF_CODE_4M.fd; relative paths are resolved against the definition file\'s directory.'),
    readonly: Type.Optional(Type.Boolean({ description: 'Map the code image read-only (default true).' })),
    vars: Type.Optional(text('Variable store (pflash1), writable and kept per VM; copied from vars_template when the VM starts and it does not exist.')),
    vars_template: Type.Optional(text('Pristine variable store to copy to vars, e.g. /usr/share/OVMF/OVMF_VARS_4M.fd; needs vars.')),
  },
  'UEFI firmware in emulated flash (like libvirt <loader type="pflash"> and <nvram>); pc and q35 machines only.',
);

export const FirmwareBootInput = obj(
  {
    firmware: Type.Optional(text('Firmware image (-bios), e.g. an OVMF build; default: QEMU\'s SeaBIOS.')),
    pflash: Type.Optional(PflashInput),
    order: Type.Optional(
      Type.Array(oneOf(BOOT_DEVICES, 'A boot device class.'), {
        uniqueItems: true,
        description: 'Boot device classes in order: disk, cdrom, network (default: QEMU\'s order). Do not combine with disks[].boot_index.',
      }),
    ),
  },
  'Firmware boot.',
);

export const BootInput = Type.Union([KernelBootInput, FirmwareBootInput], {
  description: 'Boot: {kernel, initrd, cmdline} for direct kernel boot, or {firmware, order} for firmware boot (default: QEMU\'s firmware boot).',
});

// ---- domain-level settings: lifecycle, features, clock ----

export const LifecycleInput = obj(
  {
    on_poweroff: Type.Optional(oneOf(LIFECYCLE_ACTIONS, 'When the guest powers off: destroy (default: QEMU exits), restart (a fresh QEMU starts) or preserve (QEMU stays, paused).')),
    on_reboot: Type.Optional(oneOf(['destroy', 'restart'] as const, 'When the guest reboots: restart (default: reset in place) or destroy (QEMU exits); preserve is not possible for reboots.')),
    on_crash: Type.Optional(oneOf(LIFECYCLE_ACTIONS, 'When the guest crashes: destroy (default), restart or preserve (QEMU stays, paused).')),
  },
  'Lifecycle policies (libvirt on_poweroff/on_reboot/on_crash); keys not given take the defaults. `vmkit run` ends at the first stop (see the README).',
);

export const FeaturesInput = obj(
  {
    acpi: Type.Optional(Type.Boolean({ description: 'ACPI (default true); false: -machine acpi=off, and the guest cannot be shut down through ACPI.' })),
  },
  'Platform features.',
);

export const ClockInput = obj(
  {
    offset: Type.Optional(oneOf(['utc', 'localtime', 'variable'] as const, 'RTC start: utc (default), localtime, or variable (basis plus adjustment, computed at start).')),
    adjustment: Type.Optional(Type.Integer({ minimum: -3153600000, maximum: 3153600000, description: 'offset variable: seconds added to the basis (may be negative).' })),
    basis: Type.Optional(oneOf(['utc', 'localtime'] as const, 'offset variable: the time the adjustment is added to (default utc).')),
    timers: Type.Optional(
      obj(
        {
          rtc: Type.Optional(obj({ tickpolicy: oneOf(['delay', 'catchup'] as const, 'delay (QEMU default) or catchup (-rtc driftfix=slew).') }, 'The RTC.')),
          pit: Type.Optional(obj({ tickpolicy: oneOf(['delay', 'catchup', 'discard'] as const, 'Lost PIT ticks under KVM: catchup (KVM default), delay or discard.') }, 'The PIT.')),
          hpet: Type.Optional(obj({ present: Type.Boolean({ description: 'false: no HPET (-machine hpet=off).' }) }, 'The HPET.')),
          kvmclock: Type.Optional(obj({ present: Type.Boolean({ description: 'false: hide kvmclock (-cpu <model>,kvmclock=off; needs cpu.model).' }) }, 'The KVM paravirtual clock.')),
        },
        'Timer settings (like libvirt <timer>).',
      ),
    ),
  },
  'The guest clock (like libvirt <clock>).',
);

export const DiskInput = obj(
  {
    path: Type.Optional(text('Disk image path, kept verbatim (any characters); relative paths are resolved against the definition file\'s directory. A disk has one of path, volume or image.')),
    format: Type.Optional(oneOf(DISK_FORMATS, 'Image format, required with a path and never guessed: raw, qcow2, qcow, vmdk, vdi, vhdx, vpc, qed or luks. A volume\'s is its own (checked at start when given); an image disk is a qcow2 overlay.')),
    volume: Type.Optional(str(PATTERNS.volumeName, 'A volume of the connection\'s root (vmkit vol create/overlay, image build --volume), found at start. Instead of path.')),
    image: Type.Optional(str(PATTERNS.templateId, 'A template of the image repositories (vmkit image list): the disk is a qcow2 overlay on the cached template (vmkit image get), made in the domain\'s directory at its first start and kept. Instead of path.')),
    size: Type.Optional(size('Virtual size of an image disk (default and minimum: the template\'s).')),
    arch: Type.Optional(str(PATTERNS.arch, 'Architecture of an image disk\'s template (default: the host\'s).')),
    bus: Type.Optional(oneOf(DISK_BUSES, 'virtio (default for disks), scsi, sata or ide (cdroms default to sata, or ide on pc machines).')),
    media: Type.Optional(oneOf(['disk', 'cdrom'] as const, 'disk (default) or cdrom.')),
    cache: Type.Optional(oneOf(DISK_CACHES, 'Host cache mode: none, writeback (QEMU default), writethrough, directsync or unsafe.')),
    aio: Type.Optional(oneOf(DISK_AIOS, 'I/O backend: threads, native (needs cache none or directsync) or io_uring.')),
    readonly: Type.Optional(Type.Boolean({ description: 'Attach read-only (default false; true for cdroms).' })),
    iothread: Type.Optional(str(PATTERNS.qemuId, 'Name of one of `iothreads` to run this disk\'s I/O (virtio only).')),
    boot_index: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'Boot priority, lower first (firmware boot only; unique).' })),
    serial: Type.Optional(str(PATTERNS.diskSerial, 'Serial number the guest sees (at most 20 characters on virtio).')),
    address: Type.Optional(
      str(PATTERNS.diskAddress, 'Where the guest sees the disk: a PCI address pci:0000:00:05.0 (virtio), or drive:CONTROLLER:BUS:TARGET:UNIT on its controller (sata: the port is UNIT; ide: BUS 0-1, UNIT 0-1; scsi: TARGET is the SCSI id, UNIT the LUN). Default: vmkit places it.'),
    ),
  },
  'A disk or cdrom.',
);

export const ForwardInput = obj(
  {
    host: Type.Integer({ minimum: 1, maximum: 65535, description: 'Host port.' }),
    guest: Type.Integer({ minimum: 1, maximum: 65535, description: 'Guest port.' }),
    protocol: Type.Optional(oneOf(['tcp', 'udp'] as const, 'tcp (default) or udp.')),
    address: Type.Optional(str(PATTERNS.ipv4, 'Host address to listen on (default 127.0.0.1; 0.0.0.0 for all interfaces).')),
  },
  'A host port forwarded to a guest port.',
);

const nicModel = () => Type.Optional(oneOf(NIC_MODELS, 'NIC model: virtio (default), e1000, e1000e or rtl8139.'));
const nicMac = () => Type.Optional(str(PATTERNS.mac, 'MAC address, e.g. 52:54:00:12:34:56 (default: QEMU assigns one).'));
// ---- devices: NIC kinds, boot index, MTU (issue 6) ----
const nicBootIndex = () =>
  Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'Boot priority, lower first (firmware boot only; unique among disks, NICs and host devices; not with boot.order).' }));
const nicMtu = () => Type.Optional(Type.Integer({ minimum: 68, maximum: 65535, description: 'MTU the guest is told to use (virtio only, host_mtu).' }));
const nicAddress = () => pciAddress('the NIC');

export const UserNicInput = obj(
  {
    type: Type.Literal('user', { description: 'User-mode (slirp) networking: no privileges needed.' }),
    model: nicModel(),
    mac: nicMac(),
    forwards: Type.Optional(Type.Array(ForwardInput, { description: 'Host ports forwarded into the guest.' })),
    boot_index: nicBootIndex(),
    mtu: nicMtu(),
    address: nicAddress(),
  },
  'A user-mode NIC.',
);

export const TapNicInput = obj(
  {
    type: Type.Literal('tap', { description: 'A host tap interface.' }),
    ifname: str(PATTERNS.ifname, 'Existing host tap interface name, e.g. tap0.'),
    model: nicModel(),
    mac: nicMac(),
    boot_index: nicBootIndex(),
    mtu: nicMtu(),
    address: nicAddress(),
  },
  'A NIC on a host tap interface.',
);

export const BridgeNicInput = obj(
  {
    type: Type.Literal('bridge', { description: 'A tap device that QEMU\'s bridge helper creates and adds to an existing host bridge.' }),
    bridge: str(PATTERNS.ifname, 'Existing host bridge, e.g. br0 or virbr0; the helper must allow it (/etc/qemu/bridge.conf: allow br0).'),
    model: nicModel(),
    mac: nicMac(),
    boot_index: nicBootIndex(),
    mtu: nicMtu(),
    address: nicAddress(),
  },
  'A NIC on a host bridge.',
);

export const NetworkNicInput = obj(
  {
    type: Type.Literal('network', { description: "A NIC on a libvirt virtual network: vmkit connects it to the network's bridge (looked up when the domain starts) with QEMU's bridge helper." }),
    network: str(PATTERNS.domainName, 'The libvirt network, e.g. default; libvirtd must have it running (virsh net-start NAME), and the bridge helper must allow its bridge (/etc/qemu/bridge.conf: allow virbr0).'),
    model: nicModel(),
    mac: nicMac(),
    boot_index: nicBootIndex(),
    mtu: nicMtu(),
    address: nicAddress(),
  },
  'A NIC on a libvirt network.',
);

export const HostdevNicInput = obj(
  {
    type: Type.Literal('hostdev', { description: 'A host NIC (an SR-IOV virtual function) assigned to the guest with vfio-pci.' }),
    host: str(PATTERNS.pciAddress, 'Host PCI address of the device, e.g. 0000:03:10.2: bound to vfio-pci already, or by vmkit with managed: true.'),
    managed: Type.Optional(Type.Boolean({ description: 'true: vmkit binds the device to vfio-pci before QEMU starts and gives it back to its driver afterwards (needs an IOMMU); false (default): it is bound already.' })),
    mac: Type.Optional(str(PATTERNS.mac, 'MAC address of the virtual function, set through its physical function before QEMU starts (needs managed: true).')),
    boot_index: nicBootIndex(),
    address: nicAddress(),
  },
  'An assigned host NIC.',
);

export const NicInput = Type.Union([UserNicInput, TapNicInput, BridgeNicInput, NetworkNicInput, HostdevNicInput], {
  description: 'A NIC: {type: user, ...}, {type: tap, ifname, ...}, {type: bridge, bridge, ...}, {type: network, network, ...} or {type: hostdev, host}.',
});

export const SerialInput = Type.Union(
  [
    oneOf(['console', 'none'] as const, 'console (default): a serial port that vmkit routes to a terminal, log and `vmkit console`; none: no serial port.'),
    obj(
      {
        type: Type.Literal('file', { description: 'QEMU writes the serial output to a file (no input, no `vmkit console`).' }),
        path: text('The file; relative paths are resolved against the definition file\'s directory. Created 0600 when missing.'),
        append: Type.Optional(Type.Boolean({ description: 'Append instead of truncating at start (default false).' })),
      },
      'Serial port to a file.',
    ),
    obj(
      {
        type: Type.Literal('unix', { description: 'The serial port on a unix socket (no `vmkit console`).' }),
        path: text('Socket path (at most 107 bytes); relative paths are resolved against the definition file\'s directory.'),
        server: Type.Optional(Type.Boolean({ description: 'true (default): QEMU listens (mode 0600) and does not wait for a client; false: QEMU connects to a listening socket.' })),
      },
      'Serial port on a unix socket.',
    ),
  ],
  { description: 'The serial port: console (default), none, {type: file, path, append} or {type: unix, path, server}.' },
);

export const VirtioMemInput = obj(
  {
    size: size('Hot-pluggable memory reserved on top of `memory` (the guest can be given up to memory + size).'),
    requested: Type.Optional(
      Type.Union([Type.String({ minLength: 1, description: 'A size with a unit: "0", "256M".' }), Type.Integer({ minimum: 0, description: 'A size in MiB.' })], {
        description: 'How much of it the guest is asked to plug at start (default 0); `vmkit setmem` changes it at run time.',
      }),
    ),
    block: Type.Optional(size('Plug granularity, a power of two of at least 2M (default: QEMU\'s, 2M on x86).')),
  },
  'Memory hotplug with virtio-mem (q35 and pc): a virtio-mem-pci device and its memory backend.',
);

export const BalloonInput = Type.Union(
  [
    Type.Boolean({ description: 'true: a virtio balloon; false (default): none.' }),
    obj(
      {
        stats_period: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647, description: 'Seconds between guest memory statistics updates (0 or absent: off).' })),
        autodeflate: Type.Optional(Type.Boolean({ description: 'The guest returns memory when it runs out (deflate-on-oom; default false).' })),
        free_page_reporting: Type.Optional(Type.Boolean({ description: 'The guest reports free pages to the host (default false).' })),
        address: pciAddress('the balloon'),
      },
      'A virtio balloon with options.',
    ),
  ],
  { description: 'Memory balloon: true, false (default) or {stats_period, autodeflate, free_page_reporting}.' },
);

export const RngInput = Type.Union(
  [
    obj(
      {
        backend: Type.Literal('random', { description: 'Read a host file.' }),
        source: Type.Optional(text('Host file to read (default /dev/urandom).')),
        address: pciAddress('the RNG'),
      },
      'A virtio RNG fed from a host file.',
    ),
    obj({ backend: Type.Literal('builtin', { description: 'QEMU\'s own generator (getrandom).' }), address: pciAddress('the RNG') }, 'A virtio RNG fed by QEMU itself.'),
  ],
  { description: 'A virtio RNG: {backend: random, source} or {backend: builtin}.' },
);

export const HostdevInput = obj(
  {
    host: str(PATTERNS.pciAddress, 'Host PCI address, e.g. 0000:00:07.0: bound to vfio-pci already, or by vmkit with managed: true.'),
    managed: Type.Optional(Type.Boolean({ description: 'true: vmkit binds the device to vfio-pci before QEMU starts and gives it back to its driver afterwards (needs an IOMMU); false (default): it is bound already.' })),
    boot_index: nicBootIndex(),
    address: pciAddress('the device'),
  },
  'A host PCI device assigned to the guest with vfio-pci.',
);
// ---- end devices ----

export const GraphicsInput = Type.Union(
  [
    oneOf(['none', 'vnc'] as const, 'none (default): no display; vnc: VNC on 127.0.0.1 display 0.'),
    obj(
      {
        type: Type.Literal('vnc', { description: 'VNC server.' }),
        listen: Type.Optional(str(PATTERNS.ipv4, 'Address the VNC server listens on (default 127.0.0.1).')),
        display: Type.Optional(
          Type.Union([Type.Integer({ minimum: 0, maximum: 59635, description: 'VNC display number; the port is 5900 + display.' }), Type.Literal('auto', { description: 'The first free display from 0 to 99.' })], {
            description: 'VNC display number (port 5900 + display; default 0), or auto: the first free one (vmkit show reports it).',
          }),
        ),
        video_address: pciAddress('the VGA card'),
      },
      'A VNC display.',
    ),
  ],
  { description: 'Graphics: none (default), vnc, or {type: vnc, listen, display}.' },
);

export const IothreadsInput = Type.Union(
  [
    Type.Integer({ minimum: 0, maximum: 64, description: 'Number of iothreads, named io0, io1, ...' }),
    Type.Array(str(PATTERNS.qemuId, 'An iothread name.'), { uniqueItems: true, maxItems: 64, description: 'iothread names.' }),
  ],
  { description: 'I/O threads for virtio disks: a count (ids io0, io1, ...) or a list of names.' },
);

export const PinningInput = Type.Union(
  [
    Type.Literal('auto', { description: 'vmkit chooses host CPUs for the vCPUs from the host topology at start.' }),
    obj(
      {
        vcpus: Type.Optional(
          Type.Union(
            [
              Type.Record(Type.String({ pattern: PATTERNS.index.source }), cpuSet('Host CPUs for this vCPU.'), {
                additionalProperties: false,
                description: 'vCPU index -> host CPUs, e.g. {0: "2", 1: "3"}.',
              }),
              Type.Array(cpuSet('Host CPUs for the vCPU at this position.'), { description: 'Host CPUs for vCPU 0, 1, ... in order.' }),
            ],
            { description: 'vCPU pinning: a mapping {vcpu: cpuset} or a list of cpusets (index = vCPU).' },
          ),
        ),
        emulator: Type.Optional(cpuSet('Host CPUs for QEMU\'s emulator threads (main loop, I/O).')),
        iothreads: Type.Optional(
          Type.Record(Type.String({ pattern: PATTERNS.qemuId.source }), cpuSet('Host CPUs for this iothread.'), {
            additionalProperties: false,
            description: 'iothread name -> host CPUs.',
          }),
        ),
      },
      'Explicit pinning of vCPU, emulator and iothread threads to host CPUs.',
    ),
  ],
  { description: 'Thread pinning: `auto`, or {vcpus, emulator, iothreads}.' },
);

export const TuningInput = obj(
  {
    pinning: Type.Optional(PinningInput),
    scheduler: Type.Optional(
      obj(
        {
          vcpus: Type.Optional(Sched),
          emulator: Type.Optional(Sched),
          iothreads: Type.Optional(Sched),
        },
        'Scheduling policy per thread group.',
      ),
    ),
    rlimit_memlock: Type.Optional(
      Type.Union([Type.Literal('unlimited', { description: 'No limit.' }), size('Locked-memory limit.')], {
        description: 'RLIMIT_MEMLOCK for QEMU: `unlimited` or a size.',
      }),
    ),
    isolate: Type.Optional(Type.Boolean({ description: 'Reserve the pinned host CPUs for this VM with cpuset cgroups (default false).' })),
    debug: Type.Optional(Type.Boolean({ description: 'Print the tuning plan when applying it (default false).' })),
  },
  'Host-side performance tuning: pinning, scheduling, memlock limit, CPU isolation.',
);

export const DomainInput = Type.Object(
  {
    $schema: Type.Optional(Type.String({ description: 'JSON Schema reference for editors; ignored by vmkit.' })),
    name: str(PATTERNS.domainName, 'Domain name: 1-64 letters, digits, `_`, `.`, `+` or `-`, starting with a letter, digit or `_`.'),
    uuid: Type.Optional(str(PATTERNS.uuid, 'Domain UUID (default: none; QEMU uses a null UUID).')),
    title: Type.Optional(str(PATTERNS.oneLine, 'A short title (one line); kept and exported, no effect on QEMU.')),
    description: Type.Optional(Type.String({ description: 'Free text; kept and exported, no effect on QEMU.' })),
    lifecycle: Type.Optional(LifecycleInput),
    features: Type.Optional(FeaturesInput),
    clock: Type.Optional(ClockInput),
    emulator: Type.Optional(text('QEMU binary: a name looked up on PATH or a path (default qemu-system-x86_64).')),
    machine: Type.Optional(MachineInput),
    cpu: Type.Optional(CpuInput),
    memory: Type.Optional(size('Guest RAM, at least 16 MiB (default 256M).')),
    current_memory: Type.Optional(size('Balloon target set before the guest runs (like libvirt <currentMemory>): at most memory; needs balloon. Default: all of memory.')),
    memory_backing: Type.Optional(MemoryBackingInput),
    virtio_mem: Type.Optional(VirtioMemInput),
    numa: Type.Optional(NumaInput),
    numa_cells: Type.Optional(Type.Array(NumaCellInput, { minItems: 1, description: 'Guest NUMA topology: cells covering every vCPU once and adding up to `memory`.' })),
    boot: Type.Optional(BootInput),
    disks: Type.Optional(Type.Array(DiskInput, { description: 'Disks and cdroms, ids disk0, disk1, ... in order.' })),
    nics: Type.Optional(Type.Array(NicInput, { description: 'Network interfaces, ids net0, net1, ... in order.' })),
    serial: Type.Optional(SerialInput),
    graphics: Type.Optional(GraphicsInput),
    balloon: Type.Optional(BalloonInput),
    rngs: Type.Optional(Type.Array(RngInput, { description: 'virtio RNGs, ids rng0, rng1, ...' })),
    hostdevs: Type.Optional(Type.Array(HostdevInput, { description: 'Host PCI devices assigned with vfio-pci, ids hostdev0, ... in order.' })),
    inputs: Type.Optional(Type.Array(InputInput, { description: 'USB input devices, ids input0, input1, ... in order.' })),
    controllers: Type.Optional(Type.Array(ControllerInput, { description: 'Controllers: PCIe root ports and PCI bridges (buses that device addresses name), USB, SCSI, SATA, virtio-serial.' })),
    iothreads: Type.Optional(IothreadsInput),
    qemu_args: Type.Optional(Type.Array(Type.String({ description: 'One QEMU argument.' }), { description: 'Extra QEMU arguments appended last; they win over generated ones.' })),
    env: Type.Optional(
      Type.Record(Type.String({ pattern: PATTERNS.envName.source }), Type.String({ description: 'Value.' }), {
        additionalProperties: false,
        description: 'Extra environment variables for QEMU.',
      }),
    ),
    clear_env: Type.Optional(Type.Boolean({ description: 'Start QEMU with only `env` (plus PATH) instead of vmkit\'s environment (default false).' })),
    user: Type.Optional(Type.Union(Account.anyOf, { description: 'User QEMU runs as: a name or uid (needs privileges).' })),
    group: Type.Optional(Type.Union(Account.anyOf, { description: 'Group QEMU runs as: a name or gid (needs privileges).' })),
    tuning: Type.Optional(TuningInput),
  },
  {
    additionalProperties: false,
    description: 'A vmkit virtual machine (domain) definition.',
  },
);

export type DomainInputT = Static<typeof DomainInput>;

/** The complete JSON Schema document (what `schema/vmkit-domain.schema.json` holds). */
export function domainJsonSchema(): Record<string, unknown> {
  const body = JSON.parse(JSON.stringify(DomainInput)) as Record<string, unknown>;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: SCHEMA_ID,
    title: 'vmkit domain definition',
    ...body,
  };
}



/** The JSON Schema file's exact text (2-space JSON with a final newline). */
export function domainJsonSchemaText(): string {
  return `${JSON.stringify(domainJsonSchema(), null, 2)}\n`;
}
