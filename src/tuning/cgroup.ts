/**
 * cpuset cgroup isolation: a VM's pinned CPUs are shielded from the host's other tasks, on cgroup v1 and v2.
 *
 * Layout under the hierarchy root R (the cpuset v1 mount, or the cgroup2 mount):
 *
 *   R/vmkit/                         v1: all of R's CPUs;  v2: partition root over every VM's isolated CPUs
 *   R/vmkit/pool/                    v1 only: R's CPUs minus every VM's; the tasks of R are moved here
 *                                    (qemu-launcher's "pool"); v2 needs none, a partition takes its CPUs
 *                                    away from every other cgroup
 *   R/vmkit/<vm>@<pid>-<start>/      the VM: its isolated CPUs; v2: partition `isolated` (1:1 pins) or
 *                                    `root`, threaded domain holding the QEMU process
 *   R/vmkit/<vm>@.../vcpu<N>         one group per vCPU, `iothread-<id>` per iothread, `emulator` for the
 *                                    rest; v2: threaded cgroups (cgroup.threads)
 *
 * The VM group's name records its owner: the QEMU pid and its start time (/proc/<pid>/stat field 22), so
 * a group whose process is gone (vmkit was killed) is recognised and removed by sweepCgroups(), which
 * isolateThreads() runs first. Teardown moves remaining tasks out before removing groups, children first,
 * and dissolves the pool and R/vmkit when no VM group is left. Only tasks in R itself are moved to the
 * pool (v1); tasks of other cgroups (container managers') are left alone.
 * Operations on one root are serialised within the process.
 */
import { join } from 'node:path';
import { VmkitError } from '../errors.js';
import { DOMAIN_NAME_PATTERN } from '../model/domain.js';
import { realCgroupFs, type CgroupFs } from './cgroup-fs.js';
import type { CgroupOptions, CpusetHierarchy } from './cgroup-detect.js';
import { codeOf, ensureDir, hostError, ids, moveAll, read, removeDir, withLock, write } from './cgroup-files.js';
import { groupName, ownerAlive, parseGroupName, processStart, type GroupOwner } from './cgroup-owner.js';
import { formatCpuSet, parseCpuSet, subtractCpus, unionCpus } from '../util/cpu-set.js';
import type { ThreadAction } from './plan.js';

export { detectCpuset, parseMountinfo } from './cgroup-detect.js';
export type { CgroupOptions, CpusetHierarchy } from './cgroup-detect.js';
export { groupName, parseGroupName, processStart } from './cgroup-owner.js';
export type { GroupOwner } from './cgroup-owner.js';

export const VMKIT_GROUP = 'vmkit';
export const POOL_GROUP = 'pool';

// ---- shared part: R/vmkit and the pool -----------------------------------------------------------------

interface VmGroup {
  readonly name: string;
  readonly path: string;
  readonly owner: GroupOwner;
}

async function vmGroups(fs: CgroupFs, vmkit: string): Promise<VmGroup[]> {
  if (!(await fs.exists(vmkit))) return [];
  const out: VmGroup[] = [];
  for (const name of await fs.subdirs(vmkit)) {
    const owner = parseGroupName(name);
    if (owner !== undefined) out.push({ name, path: join(vmkit, name), owner });
  }
  return out;
}

async function cpusOf(fs: CgroupFs, group: string): Promise<number[]> {
  return parseCpuSet(await read(fs, join(group, 'cpuset.cpus')), { allowEmpty: true });
}

/** After VM groups were added or removed: resize the pool / partition, or dissolve the shared part. */
async function reconcileShared(fs: CgroupFs, h: CpusetHierarchy): Promise<void> {
  const vmkit = join(h.root, VMKIT_GROUP);
  if (!(await fs.exists(vmkit))) return;
  const live = await vmGroups(fs, vmkit);
  const taken = unionCpus(...(await Promise.all(live.map((g) => cpusOf(fs, g.path)))));
  const pool = join(vmkit, POOL_GROUP);
  if (live.length > 0) {
    if (h.version === 1) {
      if (await fs.exists(pool)) await write(fs, join(pool, 'cpuset.cpus'), formatCpuSet(subtractCpus(await cpusOf(fs, vmkit), taken)));
    } else {
      await write(fs, join(vmkit, 'cpuset.cpus'), formatCpuSet(taken));
    }
    return;
  }
  if (h.version === 1) {
    if (await fs.exists(pool)) {
      await moveAll(fs, await ids(fs, join(pool, 'tasks')), join(h.root, 'tasks'));
      await removeDir(fs, pool);
    }
  } else {
    await fs.write(join(vmkit, 'cpuset.cpus.partition'), 'member').catch(() => undefined);
  }
  try {
    await fs.rmdir(vmkit);
  } catch (e) {
    // Another vmkit process may have created a group meanwhile: leave it.
    if (!['ENOENT', 'EBUSY', 'ENOTEMPTY'].includes(codeOf(e) ?? '')) throw hostError('remove the cgroup', vmkit, e);
  }
}

/** Removes one VM group: its tasks go to `target` (v1 tasks file) or R (v2, whole processes), children first. */
async function teardownVm(fs: CgroupFs, h: CpusetHierarchy, path: string): Promise<void> {
  if (!(await fs.exists(path))) return;
  const children = await fs.subdirs(path);
  if (h.version === 1) {
    const vmkit = join(h.root, VMKIT_GROUP);
    const others = (await vmGroups(fs, vmkit)).filter((g) => g.path !== path);
    const pool = join(vmkit, POOL_GROUP);
    const target = others.length > 0 && (await fs.exists(pool)) ? pool : h.root;
    for (const c of children) {
      await moveAll(fs, await ids(fs, join(path, c, 'tasks')), join(target, 'tasks'));
      await removeDir(fs, join(path, c));
    }
    await moveAll(fs, await ids(fs, join(path, 'tasks')), join(target, 'tasks'));
  } else {
    await moveAll(fs, await ids(fs, join(path, 'cgroup.procs')), join(h.root, 'cgroup.procs'));
    for (const c of children) await removeDir(fs, join(path, c));
  }
  await removeDir(fs, path);
}

async function sweepLocked(fs: CgroupFs, h: CpusetHierarchy, procRoot: string | undefined): Promise<string[]> {
  const vmkit = join(h.root, VMKIT_GROUP);
  if (!(await fs.exists(vmkit))) return [];
  const removed: string[] = [];
  for (const g of await vmGroups(fs, vmkit)) {
    if (await ownerAlive(g.owner, procRoot)) continue;
    await teardownVm(fs, h, g.path);
    removed.push(g.path);
  }
  await reconcileShared(fs, h);
  return removed;
}

/**
 * Removes VM groups whose QEMU process is gone (a killed vmkit left them), then shrinks or dissolves the
 * shared groups. Returns the removed group paths. Cheap when there is nothing to do.
 */
export async function sweepCgroups(h: CpusetHierarchy, opts: CgroupOptions = {}): Promise<string[]> {
  const fs = opts.fs ?? realCgroupFs;
  return withLock(h.root, () => sweepLocked(fs, h, opts.procRoot));
}

// ---- isolation -------------------------------------------------------------------------------------

export interface IsolateRequest {
  /** VM name (DOMAIN_NAME_PATTERN); part of the group name. */
  readonly vmName: string;
  /** QEMU's pid: the group's owner. */
  readonly pid: number;
  /** The CPUs to shield (the plan's isolate.cpus). */
  readonly cpus: readonly number[];
  /** Every QEMU thread to place; threads without cpus run on `cpus`. */
  readonly threads: readonly ThreadAction[];
  /** v2 partition type; default `isolated` when every vCPU is pinned to one CPU, else `root`. */
  readonly partition?: 'isolated' | 'root';
}

export interface IsolatedGroup {
  /** The VM group's path. */
  readonly path: string;
  /** Moves the VM's tasks out and removes what isolateThreads() created. Idempotent. */
  undo(): Promise<void>;
}

function subgroupOf(a: ThreadAction): string {
  if (a.role === 'vcpu') {
    const m = /^vCPU (\d+)$/.exec(a.label);
    if (m !== null) return `vcpu${m[1]}`;
  } else if (a.role === 'iothread') {
    const id = a.label.replace(/^iothread /, '');
    if (/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(id)) return `iothread-${id}`;
  } else {
    return 'emulator';
  }
  return `${a.role}-tid${a.tid}`;
}

function what(a: ThreadAction): string {
  return a.role === 'emulator' ? a.label : `${a.label} (tid ${a.tid})`;
}

interface Sub {
  readonly name: string;
  cpus: number[];
  readonly threads: ThreadAction[];
}

function subgroups(req: IsolateRequest): Sub[] {
  const subs = new Map<string, Sub>();
  for (const a of req.threads) {
    const name = subgroupOf(a);
    let s = subs.get(name);
    if (s === undefined) {
      s = { name, cpus: [], threads: [] };
      subs.set(name, s);
    }
    s.cpus = unionCpus(s.cpus, a.cpus ?? req.cpus);
    s.threads.push(a);
  }
  return [...subs.values()];
}

async function conflictCheck(fs: CgroupFs, vmkit: string, cpus: readonly number[]): Promise<void> {
  for (const g of await vmGroups(fs, vmkit)) {
    const theirs = await cpusOf(fs, g.path);
    const overlap = cpus.filter((c) => theirs.includes(c));
    if (overlap.length > 0) {
      throw new VmkitError(
        'HostError',
        `Cannot isolate CPUs ${formatCpuSet(overlap)}: they are already isolated for VM '${g.owner.vm}' (QEMU pid ${g.owner.pid}, cgroup ${g.path})`,
        { details: { cpus: overlap, group: g.path } },
      );
    }
  }
}

async function placeThread(fs: CgroupFs, file: string, a: ThreadAction): Promise<void> {
  try {
    await fs.write(file, String(a.tid));
  } catch (e) {
    if (a.role === 'emulator' && codeOf(e) === 'ESRCH') return; // a short-lived worker thread ended
    throw hostError(`move ${what(a)} into its cgroup`, file, e);
  }
}

async function isolateV1(fs: CgroupFs, h: CpusetHierarchy, vm: string, req: IsolateRequest): Promise<void> {
  const vmkit = join(h.root, VMKIT_GROUP);
  const pool = join(vmkit, POOL_GROUP);
  const rootCpus = await cpusOf(fs, h.root);
  const mems = await read(fs, join(h.root, 'cpuset.mems'));
  const outside = subtractCpus(req.cpus, rootCpus);
  if (outside.length > 0) {
    throw new VmkitError('HostError', `Cannot isolate CPUs ${formatCpuSet(outside)}: they are not in ${h.root}/cpuset.cpus (${formatCpuSet(rootCpus)})`);
  }
  await ensureDir(fs, vmkit);
  await write(fs, join(vmkit, 'cpuset.mems'), mems);
  await write(fs, join(vmkit, 'cpuset.cpus'), formatCpuSet(rootCpus));
  await conflictCheck(fs, vmkit, req.cpus);
  const taken = unionCpus(req.cpus, ...(await Promise.all((await vmGroups(fs, vmkit)).map((g) => cpusOf(fs, g.path)))));
  const poolCpus = subtractCpus(rootCpus, taken);
  if (poolCpus.length === 0) {
    throw new VmkitError('HostError', `Cannot isolate CPUs ${formatCpuSet(req.cpus)}: no CPU of ${formatCpuSet(rootCpus)} would be left for the host's other tasks`);
  }
  await ensureDir(fs, pool);
  await write(fs, join(pool, 'cpuset.mems'), mems);
  await write(fs, join(pool, 'cpuset.cpus'), formatCpuSet(poolCpus));

  if (!(await ensureDir(fs, vm))) throw new VmkitError('HostError', `Cannot isolate CPUs: the cgroup ${vm} already exists`);
  await write(fs, join(vm, 'cpuset.mems'), mems);
  await write(fs, join(vm, 'cpuset.cpus'), formatCpuSet(req.cpus));
  const subs = subgroups(req);
  for (const s of subs) {
    const dir = join(vm, s.name);
    await ensureDir(fs, dir);
    await write(fs, join(dir, 'cpuset.mems'), mems);
    await write(fs, join(dir, 'cpuset.cpus'), formatCpuSet(s.cpus));
  }
  // Shield: every other task of R goes to the pool (the VM's own threads move next).
  const qemu = new Set(req.threads.map((a) => a.tid));
  await moveAll(fs, (await ids(fs, join(h.root, 'tasks'))).filter((t) => !qemu.has(t)), join(pool, 'tasks'));
  for (const s of subs) for (const a of s.threads) await placeThread(fs, join(vm, s.name, 'tasks'), a);
}

async function isolateV2(fs: CgroupFs, h: CpusetHierarchy, vm: string, req: IsolateRequest, state: { addedRootCpuset: boolean }): Promise<void> {
  const vmkit = join(h.root, VMKIT_GROUP);
  // CPUs already in the vmkit partition have left R's effective set; they are still ours to hand out.
  const effective = parseCpuSet(await read(fs, join(h.root, 'cpuset.cpus.effective')), { allowEmpty: true });
  const held = (await fs.exists(vmkit)) ? await cpusOf(fs, vmkit).catch(() => []) : [];
  const online = unionCpus(effective, held);
  const outside = subtractCpus(req.cpus, online);
  if (outside.length > 0) {
    throw new VmkitError(
      'HostError',
      `Cannot isolate CPUs ${formatCpuSet(outside)}: they are not available in ${h.root} (cpuset.cpus.effective is ${formatCpuSet(effective)}; another cpuset partition may hold them)`,
    );
  }
  if (!(await read(fs, join(h.root, 'cgroup.subtree_control'))).split(/\s+/).includes('cpuset')) {
    await write(fs, join(h.root, 'cgroup.subtree_control'), '+cpuset');
    state.addedRootCpuset = true;
  }
  await ensureDir(fs, vmkit);
  if (!(await read(fs, join(vmkit, 'cgroup.subtree_control'))).split(/\s+/).includes('cpuset')) {
    await write(fs, join(vmkit, 'cgroup.subtree_control'), '+cpuset');
  }
  await conflictCheck(fs, vmkit, req.cpus);
  const taken = unionCpus(req.cpus, ...(await Promise.all((await vmGroups(fs, vmkit)).map((g) => cpusOf(fs, g.path)))));
  if (subtractCpus(online, taken).length === 0) {
    throw new VmkitError('HostError', `Cannot isolate CPUs ${formatCpuSet(req.cpus)}: no CPU of ${formatCpuSet(online)} would be left for the host's other tasks`);
  }
  await write(fs, join(vmkit, 'cpuset.cpus'), formatCpuSet(taken));
  await setPartition(fs, vmkit, 'root');

  if (!(await ensureDir(fs, vm))) throw new VmkitError('HostError', `Cannot isolate CPUs: the cgroup ${vm} already exists`);
  await write(fs, join(vm, 'cpuset.cpus'), formatCpuSet(req.cpus));
  const vcpus = req.threads.filter((a) => a.role === 'vcpu');
  const kind = req.partition ?? (vcpus.length > 0 && vcpus.every((a) => a.cpus?.length === 1) ? 'isolated' : 'root');
  await setPartition(fs, vm, kind);
  await write(fs, join(vm, 'cgroup.subtree_control'), '+cpuset');
  const subs = subgroups(req);
  for (const s of subs) {
    const dir = join(vm, s.name);
    await ensureDir(fs, dir);
    await write(fs, join(dir, 'cgroup.type'), 'threaded');
    await write(fs, join(dir, 'cpuset.cpus'), formatCpuSet(s.cpus));
  }
  await write(fs, join(vm, 'cgroup.procs'), String(req.pid), `move QEMU (pid ${req.pid}) into its cgroup`);
  for (const s of subs) for (const a of s.threads) await placeThread(fs, join(vm, s.name, 'cgroup.threads'), a);
}

/** Writes cpuset.cpus.partition and checks the kernel accepted it (an invalid partition reads `root invalid (reason)`). */
async function setPartition(fs: CgroupFs, dir: string, kind: 'root' | 'isolated'): Promise<void> {
  const file = join(dir, 'cpuset.cpus.partition');
  if ((await read(fs, file)) !== kind) await write(fs, file, kind, `make ${dir} a ${kind} cpuset partition`);
  const state = await read(fs, file);
  if (state !== kind) {
    throw new VmkitError('HostError', `Cannot make ${dir} a ${kind} cpuset partition: the kernel reports '${state}'`, {
      details: { path: file, state },
    });
  }
}

/**
 * Creates the VM's cpuset groups and moves its threads in (sweeping stale groups first). On failure,
 * removes whatever it created before throwing.
 */
export async function isolateThreads(h: CpusetHierarchy, req: IsolateRequest, opts: CgroupOptions = {}): Promise<IsolatedGroup> {
  const fs = opts.fs ?? realCgroupFs;
  if (!DOMAIN_NAME_PATTERN.test(req.vmName)) {
    throw new VmkitError('InvalidArgument', `Cannot name a cgroup after VM '${req.vmName}': expected a name matching ${DOMAIN_NAME_PATTERN}`);
  }
  if (req.cpus.length === 0) throw new VmkitError('InvalidArgument', 'Cannot isolate an empty CPU set');
  const start = await processStart(req.pid, opts.procRoot);
  if (start === undefined) throw new VmkitError('HostError', `Cannot isolate CPUs for QEMU pid ${req.pid}: the process does not exist`);
  const vm = join(h.root, VMKIT_GROUP, groupName({ vm: req.vmName, pid: req.pid, start }));
  const state = { addedRootCpuset: false };
  const teardown = async (): Promise<void> => {
    await teardownVm(fs, h, vm);
    await reconcileShared(fs, h);
    if (state.addedRootCpuset && !(await fs.exists(join(h.root, VMKIT_GROUP)))) {
      await fs.write(join(h.root, 'cgroup.subtree_control'), '-cpuset').catch(() => undefined);
    }
  };
  await withLock(h.root, async () => {
    await sweepLocked(fs, h, opts.procRoot);
    try {
      if (h.version === 1) await isolateV1(fs, h, vm, req);
      else await isolateV2(fs, h, vm, req, state);
    } catch (e) {
      await teardown().catch(() => undefined);
      throw e;
    }
  });
  let undone: Promise<void> | undefined;
  return {
    path: vm,
    undo: () =>
      (undone ??= withLock(h.root, teardown).catch((e: unknown) => {
        undone = undefined; // a failed teardown may be retried
        throw e;
      })),
  };
}
