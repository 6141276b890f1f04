/** Native YAML: boot and disks. Pure. */
import type { Static } from '@sinclair/typebox';
import type { BootSpec, DiskBus, DiskFormat, DiskSpec, MachineSpec } from '../../model/domain.js';
import { child } from '../pointer.js';
import type { Loose, ResolveContext } from '../resolve-context.js';
import { closest } from '../suggest.js';
import { resolveAddress } from './resolve-addresses.js';
import type { BootInput, DiskInput } from './schema.js';
import { DISK_FORMATS } from './vocabulary.js';
import { NATIVE_DISK_FORMAT_HINT } from './disk-source.js';

export function resolveBoot(input: Loose<Static<typeof BootInput>> | undefined, ctx: ResolveContext): BootSpec | undefined {
  if (input === undefined) return undefined;
  if ('kernel' in input || 'initrd' in input || 'cmdline' in input) {
    const k = input as Loose<{ kernel: string; initrd?: string; cmdline?: string }>;
    return {
      kind: 'kernel',
      kernel: k.kernel === undefined ? '' : ctx.path(k.kernel),
      ...(k.initrd === undefined ? {} : { initrd: ctx.path(k.initrd) }),
      ...(k.cmdline === undefined ? {} : { cmdline: k.cmdline }),
    };
  }
  const f = input as Loose<{ firmware?: string; order?: ('disk' | 'cdrom' | 'network')[] }>;
  return {
    kind: 'firmware',
    ...(f.firmware === undefined ? {} : { firmware: ctx.path(f.firmware) }),
    order: (f.order ?? []).filter((o): o is 'disk' | 'cdrom' | 'network' => o !== undefined),
  };
}

/** Default bus for a cdrom: IDE on the i440fx `pc` machines, SATA (AHCI) elsewhere. */
export function defaultCdromBus(machine: MachineSpec): DiskBus {
  return /^(pc|pc-i440fx.*|pc-\d.*|isapc)$/.test(machine.type) ? 'ide' : 'sata';
}

function addressOf(text: string | undefined): Pick<DiskSpec, 'address'> {
  const address = resolveAddress(text);
  return address === undefined ? {} : { address };
}

const DIRECT_CACHES = new Set(['none', 'directsync']);
const VIRTIO_SERIAL_MAX = 20;

export function resolveDisks(
  input: Loose<readonly (Static<typeof DiskInput> | undefined)[]> | undefined,
  env: { machine: MachineSpec; iothreads: readonly string[]; boot: BootSpec | undefined },
  ctx: ResolveContext,
): DiskSpec[] {
  const disks: DiskSpec[] = [];
  const bootIndexOwner = new Map<number, number>();
  const writers = new Map<string, number>();
  const readers = new Map<string, number>();
  /** Per virtio-scsi controller index: the iothread it runs in, and the disk that named it first. */
  const scsiIothreads = new Map<number, { readonly name: string; readonly disk: number }>();
  (input ?? []).forEach((d, i) => {
    if (d === undefined) return;
    const at = child('/disks', i);
    const media = d.media ?? 'disk';
    const bus = d.bus ?? (media === 'cdrom' ? defaultCdromBus(env.machine) : 'virtio');
    const readonly = d.readonly ?? media === 'cdrom';
    if (media === 'cdrom' && bus === 'virtio') {
      ctx.problems.add(child(at, d.bus === undefined ? 'media' : 'bus'), {
        message: 'A cdrom cannot be on the virtio bus (virtio-blk has no removable media); use bus sata, scsi or ide',
        expected: 'bus sata, scsi or ide',
        found: 'virtio',
      });
    }
    if (media === 'disk' && readonly && (bus === 'sata' || bus === 'ide')) {
      ctx.problems.add(child(at, 'readonly'), {
        message: `QEMU cannot give a ${bus.toUpperCase()} hard disk read-only (ide-hd refuses a read-only block node); put it on bus virtio or scsi, or use media cdrom`,
        expected: 'bus virtio or scsi for a read-only disk',
        found: `bus ${bus}`,
      });
    }
    if (media === 'cdrom' && d.readonly === false) {
      ctx.problems.add(child(at, 'readonly'), { message: 'A cdrom is always read-only; remove `readonly: false` or use media disk', found: 'false' });
    }
    if (d.iothread !== undefined) {
      // The one place of the iothread rules: virtio-blk disks run in their own iothread; the SCSI disks of one
      // virtio-scsi controller share it, and it runs in one iothread (the argv builder gives it that one).
      if (bus !== 'virtio' && bus !== 'scsi') {
        ctx.problems.add(child(at, 'iothread'), {
          message: `An iothread serves virtio disks (virtio-blk dataplane) and the virtio-scsi controller of scsi disks, but this disk is on bus ${bus}`,
          expected: 'bus virtio or scsi',
          found: `bus ${bus}`,
        });
      } else if (bus === 'scsi') {
        const address = resolveAddress(d.address);
        const controller = address?.type === 'drive' ? address.controller : 0;
        const first = scsiIothreads.get(controller);
        if (first === undefined) scsiIothreads.set(controller, { name: d.iothread, disk: i });
        else if (first.name !== d.iothread) {
          ctx.problems.add(child(at, 'iothread'), {
            message: `The scsi disks of virtio-scsi controller ${controller} share it, and it already runs in iothread \`${first.name}\` (set by disks[${first.disk}]): give them the same iothread, put this disk on another controller, or on bus virtio`,
            expected: JSON.stringify(first.name),
            found: JSON.stringify(d.iothread),
          });
        }
      }
      if (!env.iothreads.includes(d.iothread) && !ctx.broken('/iothreads')) {
        const guess = closest(d.iothread, env.iothreads);
        ctx.problems.add(child(at, 'iothread'), {
          message:
            env.iothreads.length === 0
              ? `Unknown iothread \`${d.iothread}\`: no iothreads are defined; add \`iothreads: 1\` (id io0) or a list of names`
              : `Unknown iothread \`${d.iothread}\`${guess === undefined ? '' : `; did you mean \`${guess}\`?`}`,
          expected: env.iothreads.length === 0 ? 'a name listed in `iothreads`' : `one of ${env.iothreads.map((t) => `\`${t}\``).join(', ')}`,
          found: JSON.stringify(d.iothread),
        });
      }
    }
    if (d.aio === 'native' && !DIRECT_CACHES.has(d.cache ?? 'writeback')) {
      ctx.problems.add(child(at, 'aio'), {
        message: 'aio native needs O_DIRECT, i.e. cache none or directsync (QEMU requires cache.direct=on for native AIO)',
        expected: 'cache none or directsync',
        found: `cache ${d.cache ?? 'writeback (default)'}`,
      });
    }
    if (d.boot_index !== undefined) {
      if (env.boot?.kind === 'kernel') {
        ctx.problems.add(child(at, 'boot_index'), { message: 'boot_index only applies to firmware boot, but this domain boots a kernel directly; remove it' });
      } else if (env.boot?.kind === 'firmware' && env.boot.order.length > 0) {
        ctx.problems.add(child(at, 'boot_index'), { message: 'Use either boot.order or disks[].boot_index, not both' });
      }
      const prev = bootIndexOwner.get(d.boot_index);
      if (prev !== undefined) {
        ctx.problems.add(child(at, 'boot_index'), { message: `boot_index ${d.boot_index} is already used by disks[${prev}]; boot indices must be unique`, found: String(d.boot_index) });
      } else {
        bootIndexOwner.set(d.boot_index, i);
      }
    }
    if (d.serial !== undefined && bus === 'virtio' && d.serial.length > VIRTIO_SERIAL_MAX) {
      ctx.problems.add(child(at, 'serial'), {
        message: `virtio-blk serials hold at most ${VIRTIO_SERIAL_MAX} characters`,
        expected: `at most ${VIRTIO_SERIAL_MAX} characters`,
        found: `${d.serial.length} characters`,
      });
    }
    const source = diskSource(d, at, ctx);
    const path = d.path === undefined ? '' : ctx.path(d.path);
    if (d.path !== undefined) {
      const other = writers.get(path) ?? (readonly ? undefined : readers.get(path));
      if (other !== undefined) {
        ctx.problems.add(child(at, 'path'), {
          message: `The image is also used by disks[${other}]; an image may be attached twice only when every use is read-only`,
          found: JSON.stringify(d.path),
        });
      }
      (readonly ? readers : writers).set(path, i);
    }
    disks.push({
      id: `disk${i}`,
      path,
      format: source.format,
      bus,
      media,
      ...(d.cache === undefined ? {} : { cache: d.cache }),
      ...(d.aio === undefined ? {} : { aio: d.aio }),
      readonly,
      ...(d.iothread === undefined ? {} : { iothread: d.iothread }),
      ...(d.boot_index === undefined ? {} : { bootIndex: d.boot_index }),
      ...(d.serial === undefined ? {} : { serial: d.serial }),
      ...addressOf(d.address),
      ...source.extra,
    });
  });
  return disks;
}

/**
 * Where a disk's image comes from: a path (its format required), a volume of the root, or an overlay on a
 * cached template (both resolved to a path when the domain starts). Exactly one of the three.
 */
function diskSource(
  d: Loose<Static<typeof DiskInput>>,
  at: string,
  ctx: ResolveContext,
): { format: DiskFormat; extra: Pick<DiskSpec, 'volume' | 'image'> } {
  const given = (['path', 'volume', 'image'] as const).filter((k) => d[k] !== undefined || ctx.broken(child(at, k)));
  const format = d.format;
  if (given.length === 0) {
    ctx.problems.add(child(at, 'path'), {
      message: 'Missing required key `path`: the disk image file, or `volume:` (a volume of the root) or `image:` (a template overlay)',
      expected: 'a file path, or volume: NAME, or image: TEMPLATE',
    });
  } else if (given.length > 1) {
    ctx.problems.add(child(at, given[1] as string), { message: `A disk has one of path, volume or image, but this one has ${given.join(' and ')}` });
  }
  if (d.path !== undefined && format === undefined && !ctx.broken(child(at, 'format'))) {
    ctx.problems.add(child(at, 'format'), {
      message: `Missing required key \`format\`: ${NATIVE_DISK_FORMAT_HINT}`,
      expected: DISK_FORMATS.map((f, i) => `${i === DISK_FORMATS.length - 1 ? 'or ' : ''}\`${f}\``).join(', ').replace(/, or /, ' or '),
    });
  }
  if (d.image === undefined) {
    for (const k of ['size', 'arch'] as const) {
      if (d[k] !== undefined) ctx.problems.add(child(at, k), { message: `\`${k}\` belongs to image disks (image: TEMPLATE); a path or volume disk has its own size` });
    }
  }
  if (d.volume !== undefined && d.path === undefined) {
    return { format: format ?? 'qcow2', extra: { volume: { name: d.volume, ...(format === undefined ? {} : { format }) } } };
  }
  if (d.image !== undefined && d.path === undefined) {
    if (format !== undefined && format !== 'qcow2') {
      ctx.problems.add(child(at, 'format'), { message: 'An image disk is a qcow2 overlay on the template: remove format, or write qcow2', expected: 'qcow2', found: format });
    }
    let sizeBytes: number | undefined;
    if (d.size !== undefined) {
      const mib = ctx.sizeMiB(d.size, child(at, 'size'), { minMiB: 1 });
      if (mib !== undefined) sizeBytes = mib * 1024 * 1024;
    }
    return { format: 'qcow2', extra: { image: { name: d.image, ...(d.arch === undefined ? {} : { arch: d.arch }), ...(sizeBytes === undefined ? {} : { sizeBytes }) } } };
  }
  return { format: format ?? 'raw', extra: {} };
}
