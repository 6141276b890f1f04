/** `vmkit list [--all]`: the domains that run (with --all: every defined domain). */
import type { RemoteConnection } from '../../api/client.js';
import type { DomainInfo } from '../../driver/api-types.js';
import { emit, formatMiB, table, withConnection, type ConnectFlags } from './remote.js';
import { compareNames } from '../../util/compare.js';

export interface ListFlags extends ConnectFlags {
  readonly all?: boolean;
}

export function listCommand(flags: ListFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const remote = conn as Partial<RemoteConnection>;
    const infos: DomainInfo[] = typeof remote.refresh === 'function' ? await remote.refresh() : await Promise.all(conn.list().map((d) => d.info()));
    const shown = infos.filter((d) => flags.all === true || d.state !== 'shutoff').sort((a, b) => compareNames(a.name, b.name));
    emit(
      flags,
      shown,
      table(
        ['Name', 'State', 'PID', 'vCPUs', 'Memory', 'Autostart'],
        shown.map((d) => [d.name, d.state, d.pid === undefined ? '-' : String(d.pid), String(d.vcpus), formatMiB(d.memoryMiB), d.autostart ? 'yes' : 'no']),
      ),
    );
  });
}
