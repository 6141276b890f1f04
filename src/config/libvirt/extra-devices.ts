/**
 * Devices that DomainSpec has no field for yet — `<memballoon model='virtio'>`, `<rng>` and PCI `<hostdev>` —
 * become fixed QEMU arguments at the front of `qemuArgs`, with libvirt's device ids (`balloon0`, `rng0` and
 * `objrng0`, `hostdev0`). The export recognises exactly these arguments and writes the elements back, so
 * import -> export -> import keeps them. Pure.
 */

export type ExtraDevice =
  | { readonly kind: 'hostdev'; readonly host: string }
  | { readonly kind: 'balloon' }
  | { readonly kind: 'rng'; readonly backend: 'random'; readonly source: string }
  | { readonly kind: 'rng'; readonly backend: 'builtin' };

/** microvm has no PCI bus: its virtio devices are `virtio-*-device`. */
function transport(machineType: string): 'pci' | 'device' {
  return machineType === 'microvm' ? 'device' : 'pci';
}

function esc(v: string): string {
  return v.replaceAll(',', ',,');
}

/** The arguments for `devices`, which must be in the canonical order (see `sortExtras`). */
export function encodeExtras(devices: readonly ExtraDevice[], machineType: string): string[] {
  const t = transport(machineType);
  const out: string[] = [];
  let hostdev = 0;
  let rng = 0;
  for (const d of devices) {
    if (d.kind === 'hostdev') out.push('-device', `vfio-pci,host=${d.host},id=hostdev${hostdev++}`);
    else if (d.kind === 'balloon') out.push('-device', `virtio-balloon-${t},id=balloon0`);
    else {
      const id = rng++;
      out.push('-object', d.backend === 'random' ? `rng-random,id=objrng${id},filename=${esc(d.source)}` : `rng-builtin,id=objrng${id}`);
      out.push('-device', `virtio-rng-${t},rng=objrng${id},id=rng${id}`);
    }
  }
  return out;
}

const ORDER: Readonly<Record<ExtraDevice['kind'], number>> = { hostdev: 0, balloon: 1, rng: 2 };

/** hostdevs, then the balloon, then RNGs: the one order both directions use (stable within a kind). */
export function sortExtras<T>(items: readonly T[], device: (item: T) => ExtraDevice): T[] {
  return [...items].sort((a, b) => ORDER[device(a).kind] - ORDER[device(b).kind]);
}

/** How many arguments `encodeExtras` writes for one device. */
export function extraArgCount(d: ExtraDevice): number {
  return d.kind === 'rng' ? 4 : 2;
}

/** Splits `qemuArgs` into the extra devices at its front and the user's own arguments after them. */
export function decodeExtras(args: readonly string[], machineType: string): { devices: ExtraDevice[]; rest: string[] } {
  const t = transport(machineType);
  const devices: ExtraDevice[] = [];
  let i = 0;
  let hostdev = 0;
  let rng = 0;
  const at = (k: number): string | undefined => args[i + k];
  for (;;) {
    const hostM = at(0) === '-device' ? /^vfio-pci,host=([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]),id=hostdev(\d+)$/.exec(at(1) ?? '') : null;
    if (hostM !== null && Number(hostM[2]) === hostdev && rng === 0 && !devices.some((d) => d.kind === 'balloon')) {
      devices.push({ kind: 'hostdev', host: hostM[1] as string });
      hostdev++;
      i += 2;
      continue;
    }
    if (at(0) === '-device' && at(1) === `virtio-balloon-${t},id=balloon0` && rng === 0 && !devices.some((d) => d.kind === 'balloon')) {
      devices.push({ kind: 'balloon' });
      i += 2;
      continue;
    }
    if (at(0) === '-object' && at(2) === '-device' && at(3) === `virtio-rng-${t},rng=objrng${rng},id=rng${rng}`) {
      const obj = at(1) ?? '';
      const random = new RegExp(`^rng-random,id=objrng${rng},filename=((?:[^,]|,,)+)$`).exec(obj);
      if (random !== null) {
        devices.push({ kind: 'rng', backend: 'random', source: (random[1] as string).replaceAll(',,', ',') });
      } else if (obj === `rng-builtin,id=objrng${rng}`) {
        devices.push({ kind: 'rng', backend: 'builtin' });
      } else {
        break;
      }
      rng++;
      i += 4;
      continue;
    }
    break;
  }
  return { devices, rest: args.slice(i) };
}
