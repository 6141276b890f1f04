/** VmOps on an embedded connection: the library's functions on the named domain. */
import type { Connection } from '../driver/connection.js';
import type { Domain } from '../driver/domain.js';
import type { VmOps } from './api.js';

export function embeddedOps(conn: Connection): VmOps {
  const d = (name: string): Domain => conn.lookup(name);
  const hot = (): Promise<typeof import('./hotplug.js')> => import('./hotplug.js');
  const snaps = (): Promise<typeof import('./snapshots.js')> => import('./snapshots.js');
  return {
    attachDisk: async (n, disk, o) => (await hot()).attachDisk(d(n), disk, o),
    detachDisk: async (n, id, o) => (await hot()).detachDisk(d(n), id, o),
    attachNic: async (n, nic, o) => (await hot()).attachNic(d(n), nic, o),
    detachNic: async (n, id, o) => (await hot()).detachNic(d(n), id, o),
    setVcpus: async (n, count, o) => (await hot()).setVcpus(d(n), count, o),
    setMemory: async (n, mib, o) => (await import('./memory.js')).setMemory(d(n), mib, o),
    save: async (n, o) => (await import('./savestate.js')).save(d(n), o),
    discardSaved: async (n) => (await import('./savestate.js')).discardSaved(d(n)),
    createSnapshot: async (n, s, o) => (await snaps()).createSnapshot(d(n), s, o),
    listSnapshots: async (n) => (await snaps()).listSnapshots(d(n)),
    revertSnapshot: async (n, s) => (await snaps()).revertSnapshot(d(n), s),
    deleteSnapshot: async (n, s) => (await snaps()).deleteSnapshot(d(n), s),
    blockCommit: async (n, disk) => (await snaps()).blockCommit(d(n), disk),
    migrate: async (n, to, o) => (await import('./migration.js')).migrate(conn, d(n), to, o),
    cancelMigration: async (n) => (await import('./migration.js')).cancelMigration(d(n)),
  };
}
