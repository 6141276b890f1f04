/** `vmkit snapshot create|list|revert|delete|commit NAME ...`. */
import { table } from './remote.js';
import { emit, withOps, withProgress, type OpsFlags } from './vmops-common.js';

export interface SnapshotFlags extends OpsFlags {
  readonly external?: boolean;
  readonly description?: string;
}

export function snapshotCreateCommand(name: string, snap: string, flags: SnapshotFlags): Promise<number> {
  return withOps(flags, async (ops, conn) => {
    const r = await withProgress(conn, name, flags, () => ops.createSnapshot(name, snap, { kind: flags.external === true ? 'external' : 'internal', ...(flags.description === undefined ? {} : { description: flags.description }) }));
    emit(flags, r, `Snapshot ${snap} of ${name} created (${r.kind}${r.memory ? ', with memory' : ', disk-only'})`);
  });
}

export function snapshotListCommand(name: string, flags: OpsFlags): Promise<number> {
  return withOps(flags, async (ops) => {
    const list = await ops.listSnapshots(name);
    const rows = list.map((s) => [`${s.current ? '*' : ' '} ${s.name}`, s.kind, s.state, s.memory ? 'yes' : 'no', s.parent ?? '-', s.createdAt]);
    emit(flags, list, list.length === 0 ? `${name} has no snapshots` : table(['  NAME', 'KIND', 'STATE', 'MEMORY', 'PARENT', 'CREATED'], rows));
  });
}

export function snapshotRevertCommand(name: string, snap: string, flags: OpsFlags): Promise<number> {
  return withOps(flags, async (ops) => {
    const r = await ops.revertSnapshot(name, snap);
    emit(flags, r, `${name} reverted to snapshot ${snap} (${r.state})`);
  });
}

export function snapshotDeleteCommand(name: string, snap: string, flags: OpsFlags): Promise<number> {
  return withOps(flags, async (ops) => {
    await ops.deleteSnapshot(name, snap);
    emit(flags, { name, deleted: snap }, `Snapshot ${snap} of ${name} deleted`);
  });
}

export function snapshotCommitCommand(name: string, disk: string, flags: OpsFlags): Promise<number> {
  return withOps(flags, async (ops) => {
    const r = await ops.blockCommit(name, disk);
    emit(flags, r, `Disk ${disk} of ${name} merged back into ${r.path}`);
  });
}
