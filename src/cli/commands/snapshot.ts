/** `vmkit snapshot create|list|revert|delete|commit|dumpxml NAME ...`. */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { VmConnection } from '../../driver/api-types.js';
import { VmkitError } from '../../errors.js';
import type { DomainSpec } from '../../model/domain.js';
import { table } from './remote.js';
import { emit, withOps, withProgress, type OpsFlags } from './vmops-common.js';

export interface SnapshotFlags extends OpsFlags {
  readonly external?: boolean;
  readonly description?: string;
  readonly xmlfile?: string;
}

/** The domain's definition as a spec (its disks name the snapshot's disks in libvirt XML). */
async function domainSpec(conn: VmConnection, name: string): Promise<DomainSpec> {
  const def = await conn.lookup(name).definition();
  const { parseDefinition } = await import('../../config/index.js');
  return parseDefinition(def.text, { ...(def.file === undefined ? {} : { file: def.file }), baseDir: def.file === undefined ? process.cwd() : dirname(def.file) });
}

export function snapshotCreateCommand(name: string, snap: string | undefined, flags: SnapshotFlags): Promise<number> {
  return withOps(flags, async (ops, conn) => {
    let opts: Parameters<typeof ops.createSnapshot>[2] = { kind: flags.external === true ? 'external' : 'internal', ...(flags.description === undefined ? {} : { description: flags.description }) };
    let snapName = snap;
    if (flags.xmlfile !== undefined) {
      if (flags.external === true) throw new VmkitError('InvalidArgument', '--external and --xmlfile do not go together: the XML says which disks are external');
      let text: string;
      try {
        text = await readFile(flags.xmlfile, 'utf8');
      } catch (e) {
        throw new VmkitError('InvalidArgument', `Cannot read --xmlfile ${flags.xmlfile}: ${(e as Error).message}`, { cause: e });
      }
      const { parseSnapshotXml } = await import('../../vmops/snapshot-xml.js');
      const req = parseSnapshotXml(text, (await domainSpec(conn, name)).disks, flags.xmlfile);
      if (snap !== undefined && req.name !== undefined && snap !== req.name) throw new VmkitError('InvalidArgument', `The snapshot is named twice: '${snap}' on the command line and '${req.name}' in ${flags.xmlfile}; give one`);
      // As libvirt: no name given, the creation time in seconds.
      snapName = snap ?? req.name ?? String(Math.floor(Date.now() / 1000));
      const description = flags.description ?? req.description;
      opts = { kind: req.kind, memory: req.memory, ...(description === undefined ? {} : { description }), ...(req.kind === 'external' && req.disks.length > 0 ? { disks: req.disks } : {}) };
    }
    if (snapName === undefined) throw new VmkitError('InvalidArgument', 'Name the snapshot (vmkit snapshot create DOMAIN SNAPSHOT), or give --xmlfile');
    const at = snapName;
    const r = await withProgress(conn, name, flags, () => ops.createSnapshot(name, at, opts));
    emit(flags, r, `Snapshot ${at} of ${name} created (${r.kind}${r.memory ? ', with memory' : ', disk-only'})`);
  });
}

/** `vmkit snapshot dumpxml DOMAIN SNAPSHOT`: libvirt's <domainsnapshot> XML. */
export function snapshotDumpxmlCommand(name: string, snap: string, flags: OpsFlags): Promise<number> {
  return withOps(flags, async (ops, conn) => {
    const list = await ops.listSnapshots(name);
    const rec = list.find((s) => s.name === snap);
    if (rec === undefined) throw new VmkitError('NotFound', `Domain '${name}' has no snapshot '${snap}'${list.length === 0 ? ' (it has none)' : `; it has ${list.map((s) => s.name).join(', ')}`}`, { details: { domain: name, snapshot: snap } });
    const { snapshotToXml } = await import('../../vmops/snapshot-xml.js');
    const xml = snapshotToXml(rec, await domainSpec(conn, name));
    emit(flags, { name: snap, format: 'libvirt-xml', text: xml }, xml.replace(/\n$/, ''));
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
