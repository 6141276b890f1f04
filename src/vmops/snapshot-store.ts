/**
 * The snapshot tree of each domain, stored beside its definition: `<root>/snapshots/<name>.json`
 * (written atomically: temp file, fsync, rename). Snapshot names are checked like domain names, so
 * they are safe in file names and QEMU tags.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { VmkitError } from '../errors.js';
import { writeFileAtomic } from '../driver/atomic-file.js';
import type { HotState } from './types.js';

export const SNAPSHOT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/;

/** One disk in a snapshot. */
export interface SnapshotDisk {
  readonly id: string;
  /** External: the image that became read-only (the overlay's backing file). */
  readonly base?: string;
  /** External: the new overlay the disk writes to after the snapshot. */
  readonly overlay?: string;
  /** Internal: the qcow2 image holding the snapshot. */
  readonly image?: string;
}

export interface SnapshotRecord {
  readonly name: string;
  /** internal: inside the qcow2 images (disks and, running, memory); external: new overlay images. */
  readonly kind: 'internal' | 'external';
  readonly createdAt: string;
  readonly parent?: string;
  /** The domain's state when taken: a revert brings it back to it. */
  readonly state: 'running' | 'paused' | 'shutoff';
  /** The guest's memory is in the snapshot (a revert resumes the guest where it was). */
  readonly memory: boolean;
  readonly description?: string;
  readonly disks: readonly SnapshotDisk[];
  /** Devices hot-plugged when taken (a revert needs the same devices). */
  readonly hot?: HotState;
}

export interface SnapshotTree {
  readonly version: 1;
  /** The snapshot the domain's current state descends from. */
  readonly current?: string;
  readonly snapshots: readonly SnapshotRecord[];
}

const EMPTY: SnapshotTree = { version: 1, snapshots: [] };

export function snapshotFile(root: string, domain: string): string {
  return join(root, 'snapshots', `${domain}.json`);
}

export function checkSnapshotName(name: unknown): string {
  if (typeof name !== 'string' || !SNAPSHOT_NAME.test(name)) {
    throw new VmkitError('InvalidArgument', `Invalid snapshot name ${JSON.stringify(name)}: use 1-64 letters, digits, '_', '.', '+' or '-', starting with a letter, digit or '_'`, { details: { name } });
  }
  return name;
}

export async function loadTree(root: string, domain: string): Promise<SnapshotTree> {
  let text: string;
  try {
    text = await readFile(snapshotFile(root, domain), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY;
    throw new VmkitError('HostError', `Cannot read the snapshots of domain '${domain}': ${(e as Error).message}`, { cause: e });
  }
  const tree = JSON.parse(text) as SnapshotTree;
  if (tree.version !== 1 || !Array.isArray(tree.snapshots)) throw new VmkitError('HostError', `${snapshotFile(root, domain)}: not a snapshot tree of this version`);
  return tree;
}

export async function saveTree(root: string, domain: string, tree: SnapshotTree, noSync: boolean): Promise<void> {
  await mkdir(join(root, 'snapshots'), { recursive: true, mode: 0o700 });
  if (tree.snapshots.length === 0) {
    await rm(snapshotFile(root, domain), { force: true });
    return;
  }
  await writeFileAtomic(snapshotFile(root, domain), `${JSON.stringify(tree, null, 1)}\n`, { noSync });
}

/** The tree with `name` removed; its children move up to its parent. */
export function withoutSnapshot(tree: SnapshotTree, name: string): SnapshotTree {
  const gone = tree.snapshots.find((s) => s.name === name);
  const parent = gone?.parent;
  const snapshots = tree.snapshots
    .filter((s) => s.name !== name)
    .map((s) => (s.parent === name ? (parent === undefined ? withoutParent(s) : { ...s, parent }) : s));
  const current = tree.current === name ? parent : tree.current;
  return { version: 1, ...(current === undefined ? {} : { current }), snapshots };
}

function withoutParent(s: SnapshotRecord): SnapshotRecord {
  const { parent: _p, ...rest } = s;
  return rest;
}
