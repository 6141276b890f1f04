/**
 * Snapshots of a running (or paused) domain, kept as a tree beside its definition (snapshot-store.ts):
 * - internal (default): QEMU 7.2's snapshot-save job writes the disks' state and the guest's memory into
 *   the qcow2 images themselves (every writable disk must be qcow2; the first holds the memory);
 *   `revert` runs snapshot-load (the guest goes on from the snapshot: no reboot), `delete` snapshot-delete;
 * - external (disk-only): blockdev-snapshot-sync puts a new qcow2 overlay on top of each writable disk
 *   (`<root>/snapshots/<name>/<snap>-<disk>.qcow2`); the old image becomes its read-only backing file. The
 *   stored definition follows the overlay (the next boot uses it). `block-commit` merges the active overlay
 *   back into its backing file (block-commit + block-job-complete) and the definition follows back.
 *   Reverting to an external snapshot is not supported (libvirt's own support is recent): say so.
 */
import { chown, mkdir, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { VmkitError } from '../errors.js';
import type { DiskSpec } from '../model/domain.js';
import type { Domain } from '../driver/domain.js';
import type { VmProcess } from '../driver/vm-process.js';
import type { QmpClient } from '../qmp/index.js';
import { diskNodeNames } from '../qemu/argv/disks.js';
import { retargetDisk } from './live.js';
import { checkPersistable, persistChange } from './persist.js';
import type { SnapshotDiskRequest } from './snapshot-xml.js';
import { checkSnapshotName, loadTree, saveTree, withoutSnapshot, type SnapshotDisk, type SnapshotRecord, type SnapshotTree } from './snapshot-store.js';

export interface SnapshotOptions {
  readonly kind?: 'internal' | 'external';
  /** Internal snapshots of a running guest always hold its memory; external ones are disk-only. */
  readonly memory?: boolean;
  readonly description?: string;
  /**
   * External: per disk (by id), leave it out (`no`) or put its overlay at `file` (which must not exist yet;
   * QEMU creates it). Disks not named get an overlay in `<root>/snapshots/<domain>/`.
   */
  readonly disks?: readonly SnapshotDiskRequest[];
  /** Bound on the QEMU job (default 10 min). */
  readonly timeoutMs?: number;
}

const LIVE = ['running', 'paused'] as const;

interface Job {
  readonly id: string;
  readonly status: string;
  readonly error?: string;
}

/** Waits for a QEMU job to conclude, dismisses it and throws its error, if any. */
async function runJob(qmp: QmpClient, id: string, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await qmp.execute<Job[]>('query-jobs');
    const job = jobs.find((j) => j.id === id);
    if (job === undefined || job.status === 'concluded' || job.status === 'null') {
      if (job !== undefined && job.status === 'concluded') await qmp.execute('job-dismiss', { id }).catch(() => undefined);
      if (job?.error !== undefined) throw new VmkitError('QemuFailed', `${what} failed: ${job.error}`, { details: { job: id, error: job.error } });
      return;
    }
    if (Date.now() > end) throw new VmkitError('Timeout', `${what} did not finish within ${timeoutMs} ms (job ${id} is ${job.status})`, { details: { job: id } });
    await delay(50);
  }
}

function qmpOf(d: Domain, vm: VmProcess | undefined, op: string): { vm: VmProcess; qmp: QmpClient } {
  if (vm?.qmp === undefined || !vm.running) throw new VmkitError('InvalidState', `Cannot ${op} of domain '${d.name}': it is not running (snapshots are taken of a running or paused domain)`, { details: { domain: d.name } });
  return { vm, qmp: vm.qmp };
}

function writable(disks: readonly DiskSpec[]): DiskSpec[] {
  return disks.filter((x) => !x.readonly && x.media === 'disk');
}

function noSuch(d: Domain, tree: SnapshotTree, name: string): VmkitError {
  const have = tree.snapshots.map((s) => s.name);
  return new VmkitError('NotFound', `Domain '${d.name}' has no snapshot '${name}'${have.length === 0 ? ' (it has none)' : `; it has ${have.join(', ')}`}`, { details: { domain: d.name, snapshot: name } });
}

/** The snapshots of `d`, oldest first, with the current one marked. */
export async function listSnapshots(d: Domain): Promise<(SnapshotRecord & { current: boolean })[]> {
  const tree = await loadTree(d.hostOf.root, d.name);
  return tree.snapshots.map((s) => ({ ...s, current: s.name === tree.current }));
}

/** Takes a snapshot. Allowed in: running, paused. */
export function createSnapshot(d: Domain, name: string, opts: SnapshotOptions = {}): Promise<SnapshotRecord> {
  return d.vmJob('create a snapshot', LIVE, async (vmp) => {
    checkSnapshotName(name);
    const { vm, qmp } = qmpOf(d, vmp, 'snapshot');
    const root = d.hostOf.root;
    const tree = await loadTree(root, d.name);
    if (tree.snapshots.some((s) => s.name === name)) throw new VmkitError('AlreadyExists', `Domain '${d.name}' already has a snapshot '${name}': choose another name, or delete it first`, { details: { domain: d.name, snapshot: name } });
    const spec = d.live?.spec ?? d.spec;
    const kind = opts.kind ?? 'internal';
    const status = await qmp.execute<{ running: boolean }>('query-status');
    const disks = writable(spec.disks);
    const timeoutMs = opts.timeoutMs ?? 600_000;
    let taken: SnapshotDisk[];
    if (kind === 'internal') {
      if ((opts.disks ?? []).some((r) => r.snapshot !== 'internal')) throw new VmkitError('InvalidArgument', `An internal snapshot holds every writable disk of domain '${d.name}': per-disk choices (external, no) are for external snapshots`, { details: { domain: d.name } });
      const notQcow = disks.filter((x) => x.format !== 'qcow2');
      if (disks.length === 0 || notQcow.length > 0) {
        throw new VmkitError('InvalidArgument', `Cannot take an internal snapshot of domain '${d.name}': ${disks.length === 0 ? 'it has no writable disk to hold it' : `disk${notQcow.length > 1 ? 's' : ''} ${notQcow.map((x) => `'${x.id}' (${x.format})`).join(', ')} ${notQcow.length > 1 ? 'are' : 'is'} not qcow2`}; take an external snapshot (--external) instead`, {
          details: { domain: d.name, disks: notQcow.map((x) => x.id) },
        });
      }
      const devices = disks.map((x) => diskNodeNames(x.id).format);
      const job = `snap-save-${name}`;
      await qmp.execute('snapshot-save', { 'job-id': job, tag: name, vmstate: devices[0], devices });
      await runJob(qmp, job, `Snapshot '${name}' of domain '${d.name}'`, timeoutMs);
      taken = disks.map((x) => ({ id: x.id, image: x.path }));
    } else {
      if (opts.memory === true) throw new VmkitError('InvalidArgument', 'External snapshots are disk-only here: leave out --memory, or take an internal snapshot (which holds the memory)');
      checkPersistable(d);
      const chosen = checkDiskRequests(d, disks, opts.disks ?? []);
      if (chosen.length === 0) throw new VmkitError('InvalidArgument', `Cannot take an external snapshot of domain '${d.name}': it has no writable disk${disks.length > 0 ? ' left (every one is named snapshot=\'no\')' : ''}`, { details: { domain: d.name } });
      for (const c of chosen) if (c.file !== undefined) await checkOverlayTarget(c.file);
      const dir = join(root, 'snapshots', d.name);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const owner = await stat(vm.runDir.qemuDir);
      if (owner.uid !== process.geteuid?.()) await chown(dir, owner.uid, owner.gid);
      taken = [];
      // Paused together: the overlays begin at one instant for every disk.
      if (status.running) await qmp.execute('stop');
      try {
        for (const { disk: x, file } of chosen) {
          const overlay = file ?? join(dir, `${name}-${x.id}.qcow2`);
          await qmp.execute('blockdev-snapshot-sync', { 'node-name': activeNode(d, x.id), 'snapshot-file': overlay, 'snapshot-node-name': `${x.id}-s-${name}`.slice(0, 31), format: 'qcow2' });
          taken.push({ id: x.id, base: x.path, overlay });
        }
      } finally {
        if (status.running && vm.running) await qmp.execute('cont');
      }
      setActive(d, taken.map((t) => ({ id: t.id, node: `${t.id}-s-${name}`.slice(0, 31), path: t.overlay ?? '' })));
      for (const t of taken) if (d.live !== undefined && t.overlay !== undefined) retargetDisk(d.live, t.id, t.overlay, 'qcow2');
      await persistChange(d, (s) => ({ ...s, disks: s.disks.map((x) => { const t = taken.find((y) => y.id === x.id); return t?.overlay === undefined ? x : { ...x, path: t.overlay, format: 'qcow2' as const }; }) }));
    }
    const rec: SnapshotRecord = {
      name,
      kind,
      createdAt: new Date().toISOString(),
      ...(tree.current === undefined ? {} : { parent: tree.current }),
      state: status.running ? 'running' : 'paused',
      memory: kind === 'internal',
      ...(opts.description === undefined ? {} : { description: opts.description }),
      disks: taken,
      ...(d.live === undefined ? {} : { hot: d.live.hot }),
    };
    await saveTree(root, d.name, { version: 1, current: name, snapshots: [...tree.snapshots, rec] }, d.hostOf.noSync);
    d.announce('snapshot', { reason: 'created', snapshot: name });
    return rec;
  });
}

/** The writable disks an external snapshot covers, with the overlay each asked for. */
function checkDiskRequests(d: Domain, disks: readonly DiskSpec[], reqs: readonly SnapshotDiskRequest[]): { disk: DiskSpec; file?: string }[] {
  for (const r of reqs) {
    const disk = (d.live?.spec ?? d.spec).disks.find((x) => x.id === r.id);
    if (disk === undefined) throw new VmkitError('NotFound', `Domain '${d.name}' has no disk '${r.id}'`, { details: { domain: d.name, disk: r.id } });
    if (r.snapshot === 'internal') throw new VmkitError('InvalidArgument', `Disk '${r.id}': an external snapshot cannot hold an internal disk snapshot; vmkit takes one kind per snapshot`, { details: { disk: r.id } });
    if (r.snapshot === 'external' && !disks.includes(disk)) throw new VmkitError('InvalidArgument', `Disk '${r.id}' of domain '${d.name}' is read-only or a CD-ROM: it gets no overlay (name it snapshot='no')`, { details: { disk: r.id } });
    if (r.file !== undefined && r.snapshot !== 'external') throw new VmkitError('InvalidArgument', `Disk '${r.id}': an overlay file is for snapshot='external'`, { details: { disk: r.id } });
  }
  const files = reqs.flatMap((r) => (r.file === undefined ? [] : [r.file]));
  const dup = files.find((f, i) => files.indexOf(f) !== i);
  if (dup !== undefined) throw new VmkitError('InvalidArgument', `Two disks would share the overlay ${dup}`, { details: { file: dup } });
  return disks.flatMap((disk) => {
    const r = reqs.find((x) => x.id === disk.id);
    if (r?.snapshot === 'no') return [];
    return [{ disk, ...(r?.file === undefined ? {} : { file: r.file }) }];
  });
}

/** An overlay named by the caller: absolute, new, in a directory that exists. */
async function checkOverlayTarget(file: string): Promise<void> {
  if (!isAbsolute(file) || file.split('/').includes('..') || file.includes('\0')) throw new VmkitError('InvalidArgument', `The overlay path ${JSON.stringify(file)} must be absolute, without '..'`, { details: { file } });
  const exists = await stat(file).then(() => true, () => false);
  if (exists) throw new VmkitError('AlreadyExists', `The overlay ${file} already exists: vmkit creates overlays and never reuses a file; choose a new path or remove it`, { details: { file } });
  const dir = await stat(dirname(file)).catch(() => undefined);
  if (dir?.isDirectory() !== true) throw new VmkitError('InvalidArgument', `The overlay's directory ${dirname(file)} does not exist`, { details: { file } });
}

/** Brings the guest back to an internal snapshot (memory and disks), without a reboot. Allowed in: running, paused. */
export function revertSnapshot(d: Domain, name: string): Promise<SnapshotRecord> {
  return d.vmJob('revert to a snapshot', LIVE, async (vmp) => {
    const { vm, qmp } = qmpOf(d, vmp, 'revert to a snapshot');
    const root = d.hostOf.root;
    const tree = await loadTree(root, d.name);
    const snap = tree.snapshots.find((s) => s.name === name);
    if (snap === undefined) throw noSuch(d, tree, name);
    if (snap.kind === 'external') {
      throw new VmkitError('InvalidArgument', `Cannot revert domain '${d.name}' to external snapshot '${name}': vmkit reverts internal snapshots only; merge overlays with block-commit, or take internal snapshots (the default) to revert to`, { details: { domain: d.name, snapshot: name } });
    }
    const spec = d.live?.spec ?? d.spec;
    const devices = writable(spec.disks).map((x) => diskNodeNames(x.id).format);
    const missing = snap.disks.filter((x) => !spec.disks.some((y) => y.id === x.id));
    if (missing.length > 0 || devices.length === 0) throw new VmkitError('InvalidState', `Cannot revert domain '${d.name}' to snapshot '${name}': its disk${missing.length > 1 ? 's' : ''} ${missing.map((x) => x.id).join(', ')} ${missing.length > 1 ? 'are' : 'is'} no longer attached`, { details: { domain: d.name, snapshot: name } });
    const job = `snap-load-${name}`;
    await qmp.execute('snapshot-load', { 'job-id': job, tag: name, vmstate: devices[0], devices });
    await runJob(qmp, job, `Revert of domain '${d.name}' to snapshot '${name}'`, 600_000);
    // The guest runs (or stays paused) as it was when the snapshot was taken.
    const now = await qmp.execute<{ running: boolean }>('query-status');
    if (snap.state === 'running' && !now.running && vm.running) await qmp.execute('cont');
    if (snap.state === 'paused' && now.running) await qmp.execute('stop');
    await saveTree(root, d.name, { ...tree, current: name }, d.hostOf.noSync);
    d.announce('snapshot', { reason: 'reverted', snapshot: name });
    return snap;
  });
}

/** Deletes a snapshot (internal: from the images too). Allowed in: running, paused (internal), any state (external). */
export function deleteSnapshot(d: Domain, name: string): Promise<void> {
  return d.vmJob('delete a snapshot', ['running', 'paused', 'shutoff', 'saved'], async (vmp) => {
    const root = d.hostOf.root;
    const tree = await loadTree(root, d.name);
    const snap = tree.snapshots.find((s) => s.name === name);
    if (snap === undefined) throw noSuch(d, tree, name);
    if (snap.kind === 'internal') {
      const { qmp } = qmpOf(d, vmp, 'delete an internal snapshot');
      const spec = d.live?.spec ?? d.spec;
      const devices = snap.disks.filter((x) => spec.disks.some((y) => y.id === x.id)).map((x) => diskNodeNames(x.id).format);
      const job = `snap-del-${name}`;
      await qmp.execute('snapshot-delete', { 'job-id': job, tag: name, devices });
      await runJob(qmp, job, `Deleting snapshot '${name}' of domain '${d.name}'`, 600_000);
    }
    // External: the overlays are the disks now; the record goes, the images stay.
    await saveTree(root, d.name, withoutSnapshot(tree, name), d.hostOf.noSync);
    d.announce('snapshot', { reason: 'deleted', snapshot: name });
  });
}

/** node names of disks whose active layer is an external snapshot's overlay (this run). */
const activeNodes = new WeakMap<Domain, Map<string, { node: string; path: string; below: { node: string; path: string; format: DiskSpec['format'] }[] }>>();

function activeNode(d: Domain, id: string): string {
  return activeNodes.get(d)?.get(id)?.node ?? diskNodeNames(id).format;
}

function setActive(d: Domain, changes: readonly { id: string; node: string; path: string }[]): void {
  let m = activeNodes.get(d);
  if (m === undefined) {
    m = new Map();
    activeNodes.set(d, m);
  }
  for (const c of changes) {
    const before = m.get(c.id);
    const spec = d.live?.spec ?? d.spec;
    const disk = spec.disks.find((x) => x.id === c.id);
    const base = { node: before?.node ?? diskNodeNames(c.id).format, path: before?.path ?? disk?.path ?? '', format: before === undefined ? (disk?.format ?? 'qcow2') : 'qcow2' as DiskSpec['format'] };
    m.set(c.id, { node: c.node, path: c.path, below: [base, ...(before?.below ?? [])] });
  }
}

/**
 * Merges the active overlay of `disk` into its backing image (active block-commit, then
 * block-job-complete once ready): the disk writes to the backing image again, and the definition follows.
 * Allowed in: running, paused.
 */
export function blockCommit(d: Domain, disk: string, opts: { timeoutMs?: number } = {}): Promise<{ disk: string; path: string }> {
  return d.vmJob('block-commit', LIVE, async (vmp) => {
    const { qmp } = qmpOf(d, vmp, 'commit a disk');
    const active = activeNodes.get(d)?.get(disk);
    const below = active?.below[0];
    if (active === undefined || below === undefined) {
      throw new VmkitError('InvalidArgument', `Disk '${disk}' of domain '${d.name}' has no overlay from an external snapshot taken during this run to commit`, { details: { domain: d.name, disk } });
    }
    checkPersistable(d);
    const job = `commit-${disk}`;
    await qmp.execute('block-commit', { 'job-id': job, device: active.node });
    const end = Date.now() + (opts.timeoutMs ?? 600_000);
    for (;;) {
      const jobs = await qmp.execute<{ device: string; ready: boolean }[]>('query-block-jobs');
      const j = jobs.find((x) => x.device === job);
      if (j === undefined) throw new VmkitError('QemuFailed', `The commit of disk '${disk}' ended before it was ready`, { details: { disk } });
      if (j.ready) break;
      if (Date.now() > end) {
        await qmp.execute('block-job-cancel', { device: job }).catch(() => undefined);
        throw new VmkitError('Timeout', `The commit of disk '${disk}' was not ready within ${opts.timeoutMs ?? 600_000} ms; it was cancelled`, { details: { disk } });
      }
      await delay(50);
    }
    await qmp.execute('block-job-complete', { device: job });
    for (;;) {
      const jobs = await qmp.execute<{ device: string }[]>('query-block-jobs');
      if (!jobs.some((x) => x.device === job)) break;
      await delay(50);
    }
    const m = activeNodes.get(d);
    m?.set(disk, { node: below.node, path: below.path, below: active.below.slice(1) });
    if (active.below.length === 1) m?.delete(disk);
    if (d.live !== undefined) retargetDisk(d.live, disk, below.path, below.format);
    await persistChange(d, (s) => ({ ...s, disks: s.disks.map((x) => (x.id === disk ? { ...x, path: below.path, format: below.format } : x)) }));
    await rm(active.path, { force: true });
    return { disk, path: below.path };
  });
}
