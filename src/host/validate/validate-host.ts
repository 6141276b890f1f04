/**
 * validateHost: the `virt-host-validate` of vmkit. Every check reads files or calls syscalls; the only
 * process started is one QEMU probe per binary whose capability cache entry is cold.
 */
import { join } from 'node:path';
import { CapsCache } from '../caps/caps-cache.js';
import { sharedCacheDir } from '../caps/cache-dir.js';
import { checkQemuBinaries, checkSetpriv, type DevKvmState } from './check-binaries.js';
import { checkCgroupController, TUNING_CONTROLLERS } from './check-cgroups.js';
import { checkTun, checkVhostNet } from './check-devices.js';
import { checkIommuHardware, checkIommuKernel } from './check-iommu.js';
import { checkHardwareVirt, checkKvmDevice, checkNested } from './check-kvm.js';
import { checkHugepages, checkMemlock } from './check-memory.js';
import { CheckContext, type CheckSyscalls } from './context.js';
import { nodeKind } from './read.js';
import { REAL_ROOTS, type CheckResult, type HostRoots } from './types.js';

export interface HostValidateOptions extends CheckSyscalls {
  /** Where /proc, /sys, /dev, /etc are; default the real ones. */
  readonly roots?: Partial<HostRoots>;
  /** PATH for qemu-system-* and setpriv; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Capability cache for the QEMU versions; default one on sharedCacheDir(env). */
  readonly caps?: CapsCache;
  readonly signal?: AbortSignal;
  /** Bound on each QEMU look-up (a cold one probes). */
  readonly timeoutMs?: number;
}

/** Runs every check; the results come in a fixed order. */
export async function validateHost(opts: HostValidateOptions = {}): Promise<CheckResult[]> {
  const roots: HostRoots = { ...REAL_ROOTS, ...opts.roots };
  const env = opts.env ?? process.env;
  const ctx = new CheckContext(roots, {
    ...(opts.readWrite === undefined ? {} : { readWrite: opts.readWrite }),
    ...(opts.uid === undefined ? {} : { uid: opts.uid }),
  });
  const caps = opts.caps ?? new CapsCache({ cacheDir: sharedCacheDir(env), env });
  const lookup = { ...(opts.signal === undefined ? {} : { signal: opts.signal }), ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) };
  const devKvm = readDevKvm(ctx, join(roots.dev, 'kvm'));
  // The QEMU probes (if any) run while the file checks do.
  const [files, qemu, setpriv] = await Promise.all([
    Promise.all([
      checkHardwareVirt(ctx),
      checkKvmDevice(ctx),
      checkNested(ctx),
      checkIommuHardware(ctx),
      checkIommuKernel(ctx),
      ...TUNING_CONTROLLERS.map((c) => checkCgroupController(ctx, c)),
      checkHugepages(ctx),
      checkVhostNet(ctx),
      checkTun(ctx),
      checkMemlock(ctx),
    ]),
    devKvm.then((state) => checkQemuBinaries(env, caps, { ...lookup, devKvm: state })),
    checkSetpriv(env),
  ]);
  return [...files, ...qemu, setpriv];
}

async function readDevKvm(ctx: CheckContext, path: string): Promise<DevKvmState> {
  const kind = await nodeKind(path);
  if (kind === 'missing') return 'missing';
  if (kind !== 'char') return 'not-a-device';
  return (await ctx.readWrite(path)) ? 'usable' : 'denied';
}

/** True when no check failed (the exit status of `vmkit host validate`). */
export function hostValid(results: readonly CheckResult[]): boolean {
  return results.every((r) => r.status !== 'FAIL');
}
