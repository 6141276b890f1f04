/**
 * Host CPU topology from sysfs: which logical CPUs exist and are online, their socket (package), core and
 * SMT siblings, and the NUMA node of each. Read-only; `sysRoot` is injectable so tests read fixture trees
 * (test/fixtures/sysfs/<case>/devices/system/...).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VmkitError } from '../errors.js';
import { parseCpuSet } from '../util/cpu-set.js';

export interface HostCpu {
  id: number;
  online: boolean;
  /** physical_package_id; -1 when unknown (offline CPUs have no topology in sysfs). */
  socket: number;
  /** core_id (unique only within a socket); -1 when unknown. */
  core: number;
  /** NUMA node; 0 on kernels without NUMA. */
  node: number;
  /** Online SMT siblings including this CPU, ascending (thread_siblings_list); `[id]` when unknown. */
  siblings: number[];
}

export interface HostTopology {
  /** Every CPU sysfs knows, ascending by id. */
  cpus: HostCpu[];
  /** NUMA node ids, ascending; `[0]` on kernels without NUMA. */
  nodes: number[];
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VmkitError('HostError', `Cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

async function listOptional(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VmkitError('HostError', `Cannot list ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

function numbered(entries: readonly string[], prefix: string): number[] {
  const re = new RegExp(`^${prefix}(\\d+)$`);
  return entries
    .map((e) => re.exec(e)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

function intOf(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text.trim());
  return Number.isInteger(n) ? n : fallback;
}

/** Reads /sys/devices/system/cpu/* and /sys/devices/system/node/* (under `sysRoot`, default `/sys`). */
export async function readHostTopology(opts: { sysRoot?: string } = {}): Promise<HostTopology> {
  const sysRoot = opts.sysRoot ?? '/sys';
  const cpuDir = join(sysRoot, 'devices/system/cpu');
  const nodeDir = join(sysRoot, 'devices/system/node');
  const entries = await listOptional(cpuDir);
  if (entries === undefined) {
    throw new VmkitError('HostError', `Cannot read the host CPU topology: ${cpuDir} does not exist (is sysfs mounted?)`);
  }
  const ids = numbered(entries, 'cpu');
  const onlineText = await readOptional(join(cpuDir, 'online'));
  const onlineSet = onlineText === undefined ? undefined : new Set(parseCpuSet(onlineText, { allowEmpty: true }));

  // node -> cpus from node*/cpulist; nodes absent entirely on kernels without NUMA.
  const nodeEntries = await listOptional(nodeDir);
  const nodeIds = nodeEntries === undefined ? [] : numbered(nodeEntries, 'node');
  const nodeOf = new Map<number, number>();
  await Promise.all(
    nodeIds.map(async (n) => {
      const list = await readOptional(join(nodeDir, `node${n}`, 'cpulist'));
      for (const c of parseCpuSet(list ?? '', { allowEmpty: true })) nodeOf.set(c, n);
    }),
  );

  const cpus = await Promise.all(
    ids.map(async (id): Promise<HostCpu> => {
      const dir = join(cpuDir, `cpu${id}`);
      let online: boolean;
      if (onlineSet !== undefined) online = onlineSet.has(id);
      else online = intOf(await readOptional(join(dir, 'online')), 1) === 1; // cpu0 often has no `online` file
      const topo = join(dir, 'topology');
      const [pkg, core, sibs] = online
        ? await Promise.all([
            readOptional(join(topo, 'physical_package_id')),
            readOptional(join(topo, 'core_id')),
            readOptional(join(topo, 'thread_siblings_list')),
          ])
        : [undefined, undefined, undefined];
      let node = nodeOf.get(id);
      if (node === undefined && nodeIds.length > 0) {
        // Offline CPUs drop out of node*/cpulist but keep their cpuN/nodeM link.
        node = numbered((await listOptional(dir)) ?? [], 'node')[0];
      }
      const siblings = sibs === undefined ? [id] : parseCpuSet(sibs);
      return {
        id,
        online,
        socket: intOf(pkg, -1),
        core: intOf(core, -1),
        node: node ?? 0,
        siblings: siblings.includes(id) ? siblings : [id, ...siblings].sort((a, b) => a - b),
      };
    }),
  );
  const nodes = nodeIds.length > 0 ? nodeIds : [0];
  return { cpus, nodes };
}
