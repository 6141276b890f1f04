/** Hugepages (memory_backing.hugepages) and the locked-memory limit (memory_backing.locked, VFIO). */
import { join } from 'node:path';
import { parseMountinfo } from '../../tuning/cgroup-detect.js';
import type { CheckContext } from './context.js';
import { formatBytes, listDir } from './read.js';
import { result, type CheckResult } from './types.js';

/** Below this, locking even a small guest's RAM fails. */
export const MEMLOCK_MIN_BYTES = 64 * 1024 * 1024;
const CAP_SYS_RESOURCE = 24n;

export async function checkHugepages(ctx: CheckContext): Promise<CheckResult> {
  const id = 'hugepages';
  const title = 'Hugepages';
  const pools: string[] = [];
  const dir = join(ctx.roots.sys, 'kernel/mm/hugepages');
  for (const d of ((await listDir(dir)) ?? []).sort()) {
    const n = Number(((await ctx.text(join(dir, d, 'nr_hugepages'))) ?? '0').trim());
    const size = /^hugepages-(\d+)kB$/.exec(d)?.[1];
    if (n > 0 && size !== undefined) pools.push(`${n} x ${formatBytes(Number(size) * 1024)}`);
  }
  if (pools.length === 0) {
    const total = Number(/^HugePages_Total:\s*(\d+)/m.exec((await ctx.proc('meminfo')) ?? '')?.[1] ?? '0');
    const size = /^Hugepagesize:\s*(\d+)\s*kB/m.exec((await ctx.proc('meminfo')) ?? '')?.[1];
    if (total > 0) pools.push(`${total} x ${size === undefined ? 'default size' : formatBytes(Number(size) * 1024)}`);
  }
  const mount = parseMountinfo((await ctx.proc('self/mountinfo')) ?? '').find((m) => m.fsType === 'hugetlbfs');
  if (pools.length === 0) {
    return result(id, title, 'WARN', `no hugepages reserved${mount === undefined ? ', no hugetlbfs mounted' : ''}`,
      'only needed for memory_backing.hugepages: reserve pages with sysctl vm.nr_hugepages=N (or hugepages=N on the kernel command line)');
  }
  if (mount === undefined) {
    return result(id, title, 'WARN', `${pools.join(', ')} reserved, but no hugetlbfs is mounted`, 'mount -t hugetlbfs hugetlbfs /dev/hugepages');
  }
  return result(id, title, 'PASS', `${pools.join(', ')} reserved; hugetlbfs at ${mount.point}`);
}

/** `Max locked memory   8388608   8388608   bytes` -> [soft, hard] in bytes (Infinity for unlimited). */
export function parseMemlock(limits: string | undefined): [number, number] | undefined {
  const m = /^Max locked memory\s+(\S+)\s+(\S+)/m.exec(limits ?? '');
  if (m === null) return undefined;
  const v = (s: string | undefined): number => (s === 'unlimited' ? Infinity : Number(s));
  return [v(m[1]), v(m[2])];
}

export async function checkMemlock(ctx: CheckContext): Promise<CheckResult> {
  const id = 'memlock';
  const title = 'Locked memory limit (RLIMIT_MEMLOCK)';
  const lim = parseMemlock(await ctx.proc('self/limits'));
  if (lim === undefined) return result(id, title, 'WARN', 'cannot read the limit from /proc/self/limits', 'check `ulimit -l`');
  const [soft, hard] = lim;
  const text = `soft ${formatBytes(soft)}, hard ${formatBytes(hard)}`;
  if (soft >= MEMLOCK_MIN_BYTES) return result(id, title, 'PASS', text);
  if (hard >= MEMLOCK_MIN_BYTES) return result(id, title, 'PASS', `${text}: vmkit raises the soft limit for QEMU (tuning.rlimit_memlock)`);
  const capHex = /^CapEff:\s*([0-9a-f]+)/m.exec((await ctx.proc('self/status')) ?? '')?.[1];
  if (capHex !== undefined && ((BigInt(`0x${capHex}`) >> CAP_SYS_RESOURCE) & 1n) === 1n) {
    return result(id, title, 'PASS', `${text}: vmkit may raise it (CAP_SYS_RESOURCE)`);
  }
  return result(id, title, 'WARN', `${text}: locking guest RAM (memory_backing.locked, device assignment) will fail`,
    'raise it for this user: "USER hard memlock unlimited" in /etc/security/limits.conf, or LimitMEMLOCK=infinity in the service unit');
}
