import type { DomainSpec } from '../model/domain.js';
import { checkTuning, describePlan, needsTuning, planTuning, type QemuThreads } from '../tuning/index.js';

/**
 * The tuning plan `run` would apply, for `vmkit argv`: computed from the host topology with the thread
 * ids left open (QEMU's threads exist only once it runs). Undefined when the spec asks for no tuning.
 */
export async function previewTuning(spec: DomainSpec): Promise<string | undefined> {
  if (!needsTuning(spec)) return undefined;
  const topo = await checkTuning(spec);
  if (topo === undefined) return undefined;
  const threads: QemuThreads = {
    vcpus: Array.from({ length: spec.cpu.vcpus }, (_, index) => ({ index, tid: 0 })),
    iothreads: spec.iothreads.map((id) => ({ id, tid: 0 })),
    all: [],
  };
  return describePlan(planTuning(spec, threads, topo)).replace(/ \(tid 0\)/g, '');
}
