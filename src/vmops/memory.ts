/**
 * Memory hotplug with virtio-mem (`vmkit setmem`): the device's `requested-size` is set with qom-set, and
 * the guest's driver plugs or unplugs blocks until its `size` matches. vmkit waits (bounded) and says how
 * far the guest got: a guest without a virtio-mem driver (or without memory hotplug) plugs nothing, and the
 * result says so instead of pretending. The request is kept in the run's hot state (a restore or an incoming
 * migration starts with it) and, with `persistent`, in the definition.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { VmkitError } from '../errors.js';
import type { Domain } from '../driver/domain.js';
import { VIRTIO_MEM_ID } from '../qemu/argv/devices.js';
import { setHot } from './live.js';
import { checkPersistable, persistChange } from './persist.js';

export interface SetMemoryOptions {
  readonly persistent?: boolean;
  /** How long to wait for the guest to plug or unplug (default 30 s; 0: do not wait). */
  readonly timeoutMs?: number;
}

export interface SetMemoryResult {
  /** Boot memory (not hot-pluggable). */
  readonly baseMiB: number;
  /** What the guest is asked to have plugged now. */
  readonly requestedMiB: number;
  /** What the guest has plugged (QEMU's `size` of the device) when vmkit stopped waiting. */
  readonly pluggedMiB: number;
  /** The device's whole size (the most it can plug). */
  readonly maxMiB: number;
  /** pluggedMiB reached requestedMiB. */
  readonly complete: boolean;
  readonly persistent: boolean;
}

const MiB = 1024 * 1024;
const PATH = `/machine/peripheral/${VIRTIO_MEM_ID}`;

/** Sets how much hot-pluggable memory the guest should have (MiB), and waits for it. Allowed in: running, paused. */
export function setMemory(d: Domain, requestedMiB: number, opts: SetMemoryOptions = {}): Promise<SetMemoryResult> {
  return d.vmJob('setmem', ['running', 'paused'], async (vm) => {
    const qmp = vm?.qmp;
    const live = d.live;
    if (vm === undefined || qmp === undefined || live === undefined) throw new VmkitError('InvalidState', `Cannot set the memory of domain '${d.name}': it is not running`, { details: { domain: d.name } });
    const vmem = live.spec.virtioMem;
    if (vmem === undefined) {
      throw new VmkitError('InvalidArgument', `Domain '${d.name}' has no hot-pluggable memory: define it with virtio_mem: {size: ...} (libvirt: <memory model='virtio-mem'>) and restart it`, { details: { domain: d.name } });
    }
    const block = vmem.blockMiB ?? 2;
    if (!Number.isInteger(requestedMiB) || requestedMiB < 0 || requestedMiB > vmem.sizeMiB || requestedMiB % block !== 0) {
      throw new VmkitError('InvalidArgument', `setmem: domain '${d.name}' can be given 0 to ${vmem.sizeMiB} MiB of hot-pluggable memory (on top of its ${live.spec.memoryMiB} MiB), in multiples of ${block} MiB; got ${requestedMiB} MiB`, {
        details: { domain: d.name, requestedMiB, maxMiB: vmem.sizeMiB, blockMiB: block },
      });
    }
    if (opts.persistent === true) checkPersistable(d);
    await qmp.execute('qom-set', { path: PATH, property: 'requested-size', value: requestedMiB * MiB });
    setHot(live, { ...live.hot, memRequestedMiB: requestedMiB });
    const end = Date.now() + (opts.timeoutMs ?? 30_000);
    let plugged = (await qmp.execute<number>('qom-get', { path: PATH, property: 'size' })) / MiB;
    while (plugged !== requestedMiB && Date.now() < end && vm.running) {
      await delay(100);
      plugged = (await qmp.execute<number>('qom-get', { path: PATH, property: 'size' })) / MiB;
    }
    if (opts.persistent === true) await persistChange(d, (s) => (s.virtioMem === undefined ? s : { ...s, virtioMem: { ...s.virtioMem, requestedMiB } }));
    d.announce('device', { reason: 'changed', device: VIRTIO_MEM_ID });
    return { baseMiB: live.spec.memoryMiB, requestedMiB, pluggedMiB: plugged, maxMiB: vmem.sizeMiB, complete: plugged === requestedMiB, persistent: opts.persistent === true };
  });
}
