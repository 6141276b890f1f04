/** Finding the cpuset cgroup hierarchy: cgroup v2 with the cpuset controller, or a cgroup v1 cpuset mount. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmkitError } from '../errors.js';
import { realCgroupFs, type CgroupFs } from './cgroup-fs.js';
import { read } from './cgroup-files.js';

export interface CpusetHierarchy {
  readonly version: 1 | 2;
  /** The hierarchy root vmkit works under (v1: the cpuset mount; v2: the cgroup2 mount). */
  readonly root: string;
}

export interface CgroupOptions {
  /** Injected cgroup file operations (tests); default: the real file system. */
  readonly fs?: CgroupFs;
  /** Where /proc is (owner liveness); default `/proc`. */
  readonly procRoot?: string;
}

interface Mount {
  readonly point: string;
  readonly fsType: string;
  readonly superOptions: readonly string[];
}

/** Parses /proc/self/mountinfo (octal escapes such as \040 decoded). */
export function parseMountinfo(text: string): Mount[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (left[4] === undefined || right[0] === undefined) continue;
    out.push({ point: unescape(left[4]), fsType: right[0], superOptions: (right[2] ?? '').split(',') });
  }
  return out;
}

/**
 * Finds the cpuset hierarchy: `cgroupRoot` when given (v2 if it has cgroup.controllers, v1 if it has
 * cpuset.cpus), else from /proc/self/mountinfo: a cgroup2 mount whose controllers include cpuset, else a
 * cgroup v1 mount with the cpuset controller. HostError naming what is missing otherwise.
 */
export async function detectCpuset(opts: CgroupOptions & { cgroupRoot?: string } = {}): Promise<CpusetHierarchy> {
  const fs = opts.fs ?? realCgroupFs;
  const probe = async (root: string): Promise<CpusetHierarchy | undefined> => {
    if (await fs.exists(join(root, 'cgroup.controllers'))) {
      const controllers = (await read(fs, join(root, 'cgroup.controllers'))).split(/\s+/);
      if (!controllers.includes('cpuset')) {
        throw new VmkitError(
          'HostError',
          `Cannot isolate CPUs: the cgroup v2 hierarchy at ${root} has no cpuset controller (available: ${controllers.join(' ') || 'none'}); it is probably bound to a cgroup v1 hierarchy`,
          { details: { root } },
        );
      }
      return { version: 2, root };
    }
    if (await fs.exists(join(root, 'cpuset.cpus'))) return { version: 1, root };
    return undefined;
  };
  if (opts.cgroupRoot !== undefined) {
    const h = await probe(opts.cgroupRoot);
    if (h === undefined) {
      throw new VmkitError('HostError', `Cannot isolate CPUs: ${opts.cgroupRoot} is neither a cgroup v2 root nor a cpuset v1 cgroup`, {
        details: { root: opts.cgroupRoot },
      });
    }
    return h;
  }
  const mounts = parseMountinfo(await readFile(`${opts.procRoot ?? '/proc'}/self/mountinfo`, 'utf8'));
  for (const m of mounts.filter((x) => x.fsType === 'cgroup2')) {
    const controllers = await fs.read(join(m.point, 'cgroup.controllers')).catch(() => '');
    if (controllers.split(/\s+/).includes('cpuset')) return { version: 2, root: m.point };
  }
  const v1 = mounts.find((x) => x.fsType === 'cgroup' && x.superOptions.includes('cpuset'));
  if (v1 !== undefined) return { version: 1, root: v1.point };
  throw new VmkitError(
    'HostError',
    'Cannot isolate CPUs: no cpuset cgroup hierarchy is mounted (no cgroup2 mount offers cpuset, and no cgroup v1 cpuset mount exists); mount one, e.g. `mount -t cgroup -o cpuset cpuset /sys/fs/cgroup/cpuset`',
  );
}
