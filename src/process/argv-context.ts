import { effectiveAccel, type QemuCaps } from '../host/caps/index.js';
import { resolveAccel } from '../host/accel.js';
import { hostTscKHz } from '../host/tsc.js';
import type { DomainSpec } from '../model/domain.js';
import type { ArgvContext, RuntimePaths } from '../qemu/argv/index.js';

/**
 * The host facts the pure argv builder needs for `spec`: the accelerator (from the binary's capabilities
 * when known, so the whole operation works from one look-up) and the TSC rate.
 */
export async function argvContext(spec: DomainSpec, paths: RuntimePaths, caps?: QemuCaps): Promise<ArgvContext> {
  const [accel, tsc] = await Promise.all([caps === undefined ? resolveAccel(spec.machine.accel) : effectiveAccel(spec, caps), hostTscKHz()]);
  return { paths, accel, ...(tsc === undefined ? {} : { hostTscKHz: tsc }) };
}
