/** QEMU binaries on PATH with their versions (from the capability cache; a cold entry probes), and setpriv. */
import { constants } from 'node:fs';
import { access, realpath } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { isVmkitError } from '../../errors.js';
import type { CapsCache } from '../caps/caps-cache.js';
import { resolveBinary } from '../caps/resolve-binary.js';
import { versionText, type QemuCaps } from '../caps/types.js';
import { guestAccels } from '../caps/validate-spec.js';
import { listDir } from './read.js';
import { result, type CheckResult } from './types.js';

/** Every `qemu-system-*` executable on PATH, first one of each real file, in PATH order. */
export async function findQemuBinaries(env: NodeJS.ProcessEnv): Promise<string[]> {
  const dirs = [...new Set((env.PATH ?? '').split(delimiter).filter((d) => d !== '' && isAbsolute(d)))];
  const listed = await Promise.all(dirs.map(async (d) => ((await listDir(d)) ?? []).filter((n) => n.startsWith('qemu-system-')).sort().map((n) => join(d, n))));
  const out: string[] = [];
  const seen = new Set<string>();
  for (const path of listed.flat()) {
    const real = await realpath(path).catch(() => undefined);
    if (real === undefined || seen.has(real)) continue;
    try {
      await access(path, constants.X_OK);
    } catch {
      continue;
    }
    seen.add(real);
    out.push(path);
  }
  return out;
}

/** What this host's /dev/kvm is for the user the checks speak for. */
export type DevKvmState = 'usable' | 'missing' | 'denied' | 'not-a-device';

const DEV_KVM_WHY: Readonly<Record<Exclude<DevKvmState, 'usable'>, string>> = {
  missing: '/dev/kvm is missing',
  denied: 'this user cannot open /dev/kvm read-write',
  'not-a-device': '/dev/kvm is not a character device',
};

/** A WARN when no accelerator of `caps` can run a guest here (a KVM-only binary without KVM), else undefined. */
function noGuestAccel(caps: QemuCaps, devKvm: DevKvmState | undefined): { detail: string; remedy: string } | undefined {
  if (guestAccels(caps).length > 0) return undefined;
  const built = caps.accels.filter((a) => a !== 'qtest');
  const only = built.length === 0 ? 'no accelerator is built in' : `only the ${built.join(' and ')} accelerator${built.length === 1 ? ' is' : 's are'} built in`;
  const why = !caps.kvm.present ? '' : ` and ${devKvm === undefined || devKvm === 'usable' ? 'KVM could not be opened' : DEV_KVM_WHY[devKvm]}`;
  return {
    detail: `QEMU ${versionText(caps.version)}, ${caps.arch}: ${only}${why}: this binary cannot run guests here`,
    remedy: caps.kvm.present ? 'make KVM usable (see the /dev/kvm check), or run guests with a QEMU that has TCG (qemu-system-x86_64)' : 'install a QEMU build with KVM or TCG',
  };
}

export async function checkQemuBinaries(
  env: NodeJS.ProcessEnv,
  cache: CapsCache,
  opts: { signal?: AbortSignal; timeoutMs?: number; devKvm?: DevKvmState } = {},
): Promise<CheckResult[]> {
  const binaries = await findQemuBinaries(env);
  if (binaries.length === 0) {
    return [result('qemu', 'QEMU binaries', 'FAIL', 'no qemu-system-* executable on PATH', 'install QEMU: apt-get install qemu-system-x86 (or dnf install qemu-kvm)')];
  }
  return Promise.all(
    binaries.map(async (path): Promise<CheckResult> => {
      const id = `qemu:${path}`;
      const title = `QEMU ${path}`;
      const warm = (await cache.peek(path)) !== undefined;
      try {
        const caps = await cache.lookup(path, { ...(opts.signal === undefined ? {} : { signal: opts.signal }), ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) });
        const none = noGuestAccel(caps, opts.devKvm);
        if (none !== undefined) return result(id, title, 'WARN', none.detail, none.remedy);
        const kvm = caps.kvm.enabled ? 'KVM usable' : caps.kvm.present ? 'KVM built in but not usable' : 'no KVM support';
        const how = warm ? 'cached' : `probed in ${Math.round(caps.probe.ms)} ms`;
        return result(id, title, 'PASS', `QEMU ${versionText(caps.version)}, ${caps.arch}, ${kvm} (${how})`);
      } catch (e) {
        const msg = isVmkitError(e) || e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e);
        return result(id, title, 'WARN', `cannot probe: ${msg}`, 'reinstall QEMU, or remove the broken binary from PATH');
      }
    }),
  );
}

export async function checkSetpriv(env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const path = await resolveBinary('setpriv', env);
  if (path !== undefined) return result('setpriv', 'setpriv (util-linux)', 'PASS', path);
  return result('setpriv', 'setpriv (util-linux)', 'FAIL', 'not found on PATH: vmkit starts QEMU through setpriv --pdeathsig KILL',
    'install util-linux (apt-get install util-linux)');
}
