/** `vmkit save NAME`: save the guest's state to a file and stop QEMU; `vmkit start NAME` restores it. */
import { secondsFlag } from './remote.js';
import { emit, withOps, withProgress, type OpsFlags } from './vmops-common.js';

export interface SaveFlags extends OpsFlags {
  readonly discard?: boolean;
}

export function saveCommand(name: string, flags: SaveFlags): Promise<number> {
  return withOps(flags, async (ops, conn) => {
    if (flags.discard === true) {
      await ops.discardSaved(name);
      emit(flags, { name, discarded: true }, `The saved state of ${name} was discarded; the next start boots afresh`);
      return;
    }
    const timeoutMs = secondsFlag('--timeout', flags.timeout);
    const r = await withProgress(conn, name, flags, () => ops.save(name, timeoutMs === undefined ? {} : { timeoutMs }));
    emit(flags, r, `${name} saved to ${r.file} (${Math.round(r.bytes / 1048576)} MiB${r.paused ? ', paused' : ''}); 'vmkit start ${name}' restores it`);
  });
}
