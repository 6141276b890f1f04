/** The cgroup controllers vmkit's tuning uses (cpuset isolation, cpu weights, memory limits), v1 or v2. */
import { join } from 'node:path';
import { parseMountinfo } from '../../tuning/cgroup-detect.js';
import type { CheckContext } from './context.js';
import { hostPath, result, type CheckResult } from './types.js';

export const TUNING_CONTROLLERS = ['cpuset', 'cpu', 'memory'] as const;

/** Controllers the kernel has compiled in and enabled, from /proc/cgroups (`name hierarchy count enabled`). */
function kernelControllers(text: string | undefined): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const line of (text ?? '').split('\n')) {
    if (line.startsWith('#')) continue;
    const f = line.trim().split(/\s+/);
    if (f.length >= 4 && f[0] !== undefined) out.set(f[0], f[3] === '1');
  }
  return out;
}

export async function checkCgroupController(ctx: CheckContext, controller: string): Promise<CheckResult> {
  const id = `cgroup-${controller}`;
  const title = `cgroup controller '${controller}'`;
  const mounts = parseMountinfo((await ctx.proc('self/mountinfo')) ?? '');
  const v2 = mounts.filter((m) => m.fsType === 'cgroup2');
  for (const m of v2) {
    const available = ((await ctx.text(join(hostPath(ctx.roots, m.point), 'cgroup.controllers'))) ?? '').trim().split(/\s+/);
    if (available.includes(controller)) return result(id, title, 'PASS', `cgroup v2 at ${m.point}`);
  }
  const v1 = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(controller));
  if (v1 !== undefined) return result(id, title, 'PASS', `cgroup v1 at ${v1.point}`);
  const kernel = kernelControllers(await ctx.proc('cgroups'));
  if (!kernel.has(controller)) {
    return result(id, title, 'WARN', 'the kernel has no such controller', `only needed for tuning: use a kernel built with the ${controller} cgroup controller`);
  }
  if (kernel.get(controller) === false) {
    return result(id, title, 'WARN', `disabled on the kernel command line (cgroup_disable=${controller})`, `only needed for tuning: remove cgroup_disable=${controller} from the kernel command line`);
  }
  const first = v2[0];
  if (first !== undefined) {
    return result(id, title, 'WARN', `not enabled in the cgroup v2 hierarchy at ${first.point}`,
      `only needed for tuning: echo +${controller} > ${first.point}/cgroup.subtree_control (or unmount the v1 hierarchy that holds it)`);
  }
  return result(id, title, 'WARN', 'not mounted', `only needed for tuning: mount -t cgroup -o ${controller} ${controller} /sys/fs/cgroup/${controller}`);
}
