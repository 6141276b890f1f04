import { resolveAccel } from '../host/accel.js';
import { hostTscKHz } from '../host/tsc.js';
import type { DomainSpec } from '../model/domain.js';
import type { ArgvContext, RuntimePaths } from '../qemu/argv/index.js';

/** The host facts the pure argv builder needs for `spec`: the resolved accelerator and the TSC rate. */
export async function argvContext(spec: DomainSpec, paths: RuntimePaths): Promise<ArgvContext> {
  const [accel, tsc] = await Promise.all([resolveAccel(spec.machine.accel), hostTscKHz()]);
  return { paths, accel, ...(tsc === undefined ? {} : { hostTscKHz: tsc }) };
}
