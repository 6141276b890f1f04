import { effectiveAccel } from '../host/caps/validate-spec.js';
import type { QemuCaps } from '../host/caps/types.js';
import { resolveAccel } from '../host/accel.js';
import { networkBridges, type NetworkBridge } from '../host/libvirt-network.js';
import { hostTscKHz } from '../host/tsc.js';
import type { DomainSpec } from '../model/domain.js';
import type { ArgvContext, RuntimePaths } from '../qemu/argv/index.js';

/**
 * The host facts the pure argv builder needs for `spec`: the accelerator (from the binary's capabilities
 * when known, so the whole operation works from one look-up), the TSC rate and the bridges of its libvirt
 * networks (`networks`: already looked up by the caller; otherwise looked up here).
 */
export async function argvContext(spec: DomainSpec, paths: RuntimePaths, caps?: QemuCaps, networks?: ReadonlyMap<string, NetworkBridge>): Promise<ArgvContext> {
  const [accel, tsc, nets] = await Promise.all([
    caps === undefined ? resolveAccel(spec.machine.accel) : effectiveAccel(spec, caps),
    hostTscKHz(),
    networks ?? networkBridges(spec),
  ]);
  const bridges = new Map([...nets].map(([id, n]) => [id, n.bridge] as const));
  return { paths, accel, ...(tsc === undefined ? {} : { hostTscKHz: tsc }), ...(bridges.size === 0 ? {} : { networkBridges: bridges }) };
}
