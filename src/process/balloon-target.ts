/**
 * `currentMemoryMiB` (libvirt `<currentMemory>` below `<memory>`): the balloon target is set over QMP while
 * QEMU is still paused, as libvirt does at start. The virtio-balloon device keeps the target in its config
 * space, and the guest's balloon driver inflates to it when it loads.
 */
import type { DomainSpec } from '../model/domain.js';
import type { QmpClient } from '../qmp/index.js';

export async function setBalloonTarget(spec: DomainSpec, qmp: QmpClient, signal: AbortSignal): Promise<void> {
  if (spec.currentMemoryMiB === undefined || spec.rawOptions !== undefined) return;
  await qmp.execute('balloon', { value: spec.currentMemoryMiB * 1024 * 1024 }, { signal });
}
