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
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmkitError } from '../errors.js';
import { DOMAIN_NAME_PATTERN } from '../model/domain.js';
import { realCgroupFs, type CgroupFs } from './cgroup-fs.js';
import { formatCpuList, parseCpuList, subtractCpus, unionCpus } from './cpu-list.js';
import type { ThreadAction } from './plan.js';

export const VMKIT_GROUP = 'vmkit';
export const POOL_GROUP = 'pool';

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

export interface GroupOwner {
  readonly vm: string;
  readonly pid: number;
  /** Process start time in clock ticks since boot, from /proc/<pid>/stat. */
  readonly start: string;
}

export function groupName(o: GroupOwner): string {
  return `${o.vm}@${o.pid}-${o.start}`;
}

export function parseGroupName(name: string): GroupOwner | undefined {
  const m = /^(.+)@(\d+)-(\d+)$/.exec(name);
  return m === null ? undefined : { vm: m[1]!, pid: Number(m[2]), start: m[3]! };
}

/** Start time of `pid` (field 22 of /proc/<pid>/stat), or undefined when it does not exist. */
export async function processStart(pid: number, procRoot = '/proc'): Promise<string | undefined> {
  let stat: string;
  try {
    stat = await readFile(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[19]; // fields 3.. -> index 0 is field 3, so field 22 is index 19
}

async function ownerAlive(o: GroupOwner, procRoot: string | undefined): Promise<boolean> {
  return (await processStart(o.pid, procRoot)) === o.start;
}

// ---- small helpers -------------------------------------------------------------------------------

function codeOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function hostError(action: string, path: string, e: unknown): VmkitError {
  if (e instanceof VmkitError) return e;
  const code = codeOf(e) ?? 'error';
  return new VmkitError('HostError', `Cannot ${action} (${path}): ${code}${e instanceof Error ? `: ${e.message.replace(/^[A-Z]+: /, '')}` : ''}`, {
    cause: e,
    details: { path, errno: code },
  });
}

async function write(fs: CgroupFs, path: string, data: string, action?: string): Promise<void> {
  try {
    await fs.write(path, data);
  } catch (e) {
    throw hostError(action ?? `write '${data}' to ${path.split('/').pop()}`, path, e);
  }
}

async function read(fs: CgroupFs, path: string): Promise<string> {
  try {
    return (await fs.read(path)).trim();
  } catch (e) {
    throw hostError(`read ${path.split('/').pop()}`, path, e);
  }
}

async function ids(fs: CgroupFs, path: string): Promise<number[]> {
  const text = await read(fs, path);
  return text === '' ? [] : text.split('\n').map(Number);
}

/** mkdir; false when it already existed. */
async function ensureDir(fs: CgroupFs, path: string): Promise<boolean> {
  try {
    await fs.mkdir(path);
    return true;
  } catch (e) {
    if (codeOf(e) === 'EEXIST') return false;
    throw hostError('create the cgroup', path, e);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** rmdir, retrying EBUSY for up to ~1 s (a group stays populated until its last task has fully exited). */
async function removeDir(fs: CgroupFs, path: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rmdir(path);
      return;
    } catch (e) {
      const code = codeOf(e);
      if (code === 'ENOENT') return;
      if (code === 'EBUSY' && attempt < 20) {
        await sleep(50);
        continue;
      }
      throw hostError('remove the cgroup', path, e);
    }
  }
}

/** Moves each id into `file`, ignoring tasks that exited (ESRCH) or may not move (EINVAL: kernel threads). */
async function moveAll(fs: CgroupFs, tids: readonly number[], file: string): Promise<void> {
  for (const tid of tids) {
    try {
      await fs.write(file, String(tid));
    } catch (e) {
      const code = codeOf(e);
      if (code !== 'ESRCH' && code !== 'EINVAL') throw hostError(`move task ${tid}`, file, e);
    }
  }
}

const locks = new Map<string, Promise<unknown>>();
async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(key, tail);
  try {
    return await run;
  } finally {
    if (locks.get(key) === tail) locks.delete(key);
  }
}

// ---- detection -----------------------------------------------------------------------------------

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
  return parseCpuList(await read(fs, join(group, 'cpuset.cpus')));
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
      if (await fs.exists(pool)) await write(fs, join(pool, 'cpuset.cpus'), formatCpuList(subtractCpus(await cpusOf(fs, vmkit), taken)));
    } else {
      await write(fs, join(vmkit, 'cpuset.cpus'), formatCpuList(taken));
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
        `Cannot isolate CPUs ${formatCpuList(overlap)}: they are already isolated for VM '${g.owner.vm}' (QEMU pid ${g.owner.pid}, cgroup ${g.path})`,
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
    throw new VmkitError('HostError', `Cannot isolate CPUs ${formatCpuList(outside)}: they are not in ${h.root}/cpuset.cpus (${formatCpuList(rootCpus)})`);
  }
  await ensureDir(fs, vmkit);
  await write(fs, join(vmkit, 'cpuset.mems'), mems);
  await write(fs, join(vmkit, 'cpuset.cpus'), formatCpuList(rootCpus));
  await conflictCheck(fs, vmkit, req.cpus);
  const taken = unionCpus(req.cpus, ...(await Promise.all((await vmGroups(fs, vmkit)).map((g) => cpusOf(fs, g.path)))));
  const poolCpus = subtractCpus(rootCpus, taken);
  if (poolCpus.length === 0) {
    throw new VmkitError('HostError', `Cannot isolate CPUs ${formatCpuList(req.cpus)}: no CPU of ${formatCpuList(rootCpus)} would be left for the host's other tasks`);
  }
  await ensureDir(fs, pool);
  await write(fs, join(pool, 'cpuset.mems'), mems);
  await write(fs, join(pool, 'cpuset.cpus'), formatCpuList(poolCpus));

  if (!(await ensureDir(fs, vm))) throw new VmkitError('HostError', `Cannot isolate CPUs: the cgroup ${vm} already exists`);
  await write(fs, join(vm, 'cpuset.mems'), mems);
  await write(fs, join(vm, 'cpuset.cpus'), formatCpuList(req.cpus));
  const subs = subgroups(req);
  for (const s of subs) {
    const dir = join(vm, s.name);
    await ensureDir(fs, dir);
    await write(fs, join(dir, 'cpuset.mems'), mems);
    await write(fs, join(dir, 'cpuset.cpus'), formatCpuList(s.cpus));
  }
  // Shield: every other task of R goes to the pool (the VM's own threads move next).
  const qemu = new Set(req.threads.map((a) => a.tid));
  await moveAll(fs, (await ids(fs, join(h.root, 'tasks'))).filter((t) => !qemu.has(t)), join(pool, 'tasks'));
  for (const s of subs) for (const a of s.threads) await placeThread(fs, join(vm, s.name, 'tasks'), a);
}

async function isolateV2(fs: CgroupFs, h: CpusetHierarchy, vm: string, req: IsolateRequest, state: { addedRootCpuset: boolean }): Promise<void> {
  const vmkit = join(h.root, VMKIT_GROUP);
  // CPUs already in the vmkit partition have left R's effective set; they are still ours to hand out.
  const effective = parseCpuList(await read(fs, join(h.root, 'cpuset.cpus.effective')));
  const held = (await fs.exists(vmkit)) ? await cpusOf(fs, vmkit).catch(() => []) : [];
  const online = unionCpus(effective, held);
  const outside = subtractCpus(req.cpus, online);
  if (outside.length > 0) {
    throw new VmkitError(
      'HostError',
      `Cannot isolate CPUs ${formatCpuList(outside)}: they are not available in ${h.root} (cpuset.cpus.effective is ${formatCpuList(effective)}; another cpuset partition may hold them)`,
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
    throw new VmkitError('HostError', `Cannot isolate CPUs ${formatCpuList(req.cpus)}: no CPU of ${formatCpuList(online)} would be left for the host's other tasks`);
  }
  await write(fs, join(vmkit, 'cpuset.cpus'), formatCpuList(taken));
  await setPartition(fs, vmkit, 'root');

  if (!(await ensureDir(fs, vm))) throw new VmkitError('HostError', `Cannot isolate CPUs: the cgroup ${vm} already exists`);
  await write(fs, join(vm, 'cpuset.cpus'), formatCpuList(req.cpus));
  const vcpus = req.threads.filter((a) => a.role === 'vcpu');
  const kind = req.partition ?? (vcpus.length > 0 && vcpus.every((a) => a.cpus?.length === 1) ? 'isolated' : 'root');
  await setPartition(fs, vm, kind);
  await write(fs, join(vm, 'cgroup.subtree_control'), '+cpuset');
  const subs = subgroups(req);
  for (const s of subs) {
    const dir = join(vm, s.name);
    await ensureDir(fs, dir);
    await write(fs, join(dir, 'cgroup.type'), 'threaded');
    await write(fs, join(dir, 'cpuset.cpus'), formatCpuList(s.cpus));
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
