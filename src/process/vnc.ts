/** Where a running QEMU's VNC server listens, from QMP `query-vnc` (the port QEMU took for `display: auto`). */
import type { DomainSpec } from '../model/domain.js';
import type { QmpClient } from '../qmp/index.js';

export interface VncAddress {
  readonly host: string;
  readonly port: number;
}

interface QueryVnc {
  readonly enabled: boolean;
  readonly host?: string;
  readonly service?: string;
}

/** The VNC address of a spec with a VNC display, or undefined (no display, VNC off, or no port reported). */
export async function queryVnc(spec: DomainSpec, qmp: QmpClient, signal?: AbortSignal): Promise<VncAddress | undefined> {
  if (spec.rawOptions !== undefined || spec.graphics.type !== 'vnc') return undefined;
  const r = await qmp.execute<QueryVnc>('query-vnc', undefined, signal === undefined ? {} : { signal });
  const port = Number(r.service);
  if (!r.enabled || r.host === undefined || !Number.isInteger(port) || port <= 0) return undefined;
  return { host: r.host, port };
}
