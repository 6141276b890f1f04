/**
 * The operations that change a running VM, by domain name, on either kind of connection: `vmops(conn)`
 * calls the library directly on an embedded connection and the daemon's routes (routes-vmops.ts) on a
 * client connection. Each implementation loads with its first use.
 */
import type { VmConnection } from '../driver/api-types.js';
import type { AttachDiskRequest, AttachNicRequest } from './hotplug-args.js';
import type { HotplugOptions, HotplugResult } from './hotplug.js';
import type { MigrateOptions, MigrateResult } from './migration.js';
import type { SetMemoryOptions, SetMemoryResult } from './memory.js';
import type { SaveOptions, SaveResult } from './savestate.js';
import type { SnapshotRecord } from './snapshot-store.js';
import type { SnapshotOptions } from './snapshots.js';

export type { SetMemoryOptions, SetMemoryResult };
export type { AttachDiskRequest, AttachNicRequest, HotplugOptions, HotplugResult, MigrateOptions, MigrateResult, SaveOptions, SaveResult, SnapshotOptions, SnapshotRecord };

export interface VmOps {
  attachDisk(domain: string, disk: AttachDiskRequest, opts?: HotplugOptions): Promise<HotplugResult>;
  detachDisk(domain: string, id: string, opts?: HotplugOptions): Promise<HotplugResult>;
  attachNic(domain: string, nic: AttachNicRequest, opts?: HotplugOptions): Promise<HotplugResult>;
  detachNic(domain: string, id: string, opts?: HotplugOptions): Promise<HotplugResult>;
  setVcpus(domain: string, count: number, opts?: HotplugOptions): Promise<HotplugResult>;
  /** virtio-mem: asks the guest to have `requestedMiB` of its hot-pluggable memory plugged, and waits (bounded). */
  setMemory(domain: string, requestedMiB: number, opts?: SetMemoryOptions): Promise<SetMemoryResult>;
  /** Saves the guest to a file and stops QEMU; `start` restores it. */
  save(domain: string, opts?: Pick<SaveOptions, 'timeoutMs'>): Promise<SaveResult>;
  discardSaved(domain: string): Promise<void>;
  createSnapshot(domain: string, name: string, opts?: Omit<SnapshotOptions, 'timeoutMs'>): Promise<SnapshotRecord>;
  listSnapshots(domain: string): Promise<(SnapshotRecord & { current: boolean })[]>;
  revertSnapshot(domain: string, name: string): Promise<SnapshotRecord>;
  deleteSnapshot(domain: string, name: string): Promise<void>;
  blockCommit(domain: string, disk: string): Promise<{ disk: string; path: string }>;
  /** Live-migrates to another daemon (`unix:///path/vmkit.sock`). */
  migrate(domain: string, to: string, opts?: Omit<MigrateOptions, 'onProgress'>): Promise<MigrateResult>;
  cancelMigration(domain: string): Promise<void>;
}

export async function vmops(conn: VmConnection): Promise<VmOps> {
  if (conn.uri.startsWith('embed://')) return (await import('./embedded-ops.js')).embeddedOps(conn as import('../driver/connection.js').Connection);
  return (await import('../api/client-vmops.js')).remoteOps(conn as import('../api/client.js').RemoteConnection);
}
