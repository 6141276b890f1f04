/** VmOps over the daemon (routes-vmops.ts): each call one request; replies that carry the domain update the client's mirror. */
import type { DomainInfo } from '../driver/api-types.js';
import type { VmOps } from '../vmops/api.js';
import type { RemoteConnection } from './client.js';

export function remoteOps(conn: RemoteConnection): VmOps {
  const path = (name: string, suffix: string): string => `/v1/domains/${encodeURIComponent(name)}/${suffix}`;
  const call = async <T>(name: string, suffix: string, body: unknown, timeoutMs = 180_000, method = 'POST'): Promise<T> => {
    const r = await conn.transport.request<{ result?: T; domain?: DomainInfo } & T>(method, path(name, suffix), body, { timeoutMs });
    if (r.domain !== undefined) conn.applyInfo(r.domain);
    return (r.result ?? r) as T;
  };
  const long = (ms: number | undefined): number => (ms ?? 600_000) + 60_000;
  return {
    attachDisk: (n, disk, o = {}) => call(n, 'attach-disk', { ...disk, ...o }),
    detachDisk: (n, id, o = {}) => call(n, 'detach-disk', { id, ...o }, long(o.timeoutMs)),
    attachNic: (n, nic, o = {}) => call(n, 'attach-nic', { ...nic, ...(o.persistent === undefined ? {} : { persistent: o.persistent }) }),
    detachNic: (n, id, o = {}) => call(n, 'detach-nic', { id, ...o }, long(o.timeoutMs)),
    setVcpus: (n, count, o = {}) => call(n, 'setvcpus', { count, ...o }, long(o.timeoutMs)),
    setMemory: (n, requestedMiB, o = {}) => call(n, 'setmem', { requestedMiB, ...o }, long(o.timeoutMs)),
    save: (n, o = {}) => call(n, 'save', o, long(o.timeoutMs)),
    discardSaved: async (n) => {
      await call(n, 'save', { discard: true });
    },
    createSnapshot: (n, s, o = {}) => call(n, 'snapshots', { name: s, ...o }, long(undefined)),
    listSnapshots: async (n) => (await call<{ snapshots: Awaited<ReturnType<VmOps['listSnapshots']>> }>(n, 'snapshots', undefined, 30_000, 'GET')).snapshots,
    revertSnapshot: (n, s) => call(n, `snapshots/${encodeURIComponent(s)}/revert`, {}, long(undefined)),
    deleteSnapshot: async (n, s) => {
      await call(n, `snapshots/${encodeURIComponent(s)}`, undefined, long(undefined), 'DELETE');
    },
    blockCommit: (n, disk) => call(n, 'block-commit', { disk }, long(undefined)),
    migrate: (n, to, o = {}) => call(n, 'migrate', { to, ...o }, long(o.timeoutMs)),
    cancelMigration: async (n) => {
      await call(n, 'migrate-cancel', {});
    },
  };
}
