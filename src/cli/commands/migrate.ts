/** `vmkit migrate NAME --to unix:///other/vmkit.sock [--auto-converge] [--postcopy]`, or `--cancel`. */
import { VmkitError } from '../../errors.js';
import { secondsFlag } from './remote.js';
import { emit, withOps, withProgress, type OpsFlags } from './vmops-common.js';

export interface MigrateFlags extends OpsFlags {
  readonly to?: string;
  readonly autoConverge?: boolean;
  readonly postcopy?: boolean;
  readonly cancel?: boolean;
  readonly bandwidth?: string;
}

export function migrateCommand(name: string, flags: MigrateFlags): Promise<number> {
  return withOps(flags, async (ops, conn) => {
    if (flags.cancel === true) {
      await ops.cancelMigration(name);
      emit(flags, { name, cancelled: true }, `The migration of ${name} was cancelled; it keeps running here`);
      return;
    }
    if (flags.to === undefined) throw new VmkitError('InvalidArgument', '--to is required: the other daemon\'s socket, unix:///path/vmkit.sock');
    const timeoutMs = secondsFlag('--timeout', flags.timeout);
    const r = await withProgress(conn, name, flags, () =>
      ops.migrate(name, flags.to ?? '', { ...(flags.autoConverge === true ? { autoConverge: true } : {}), ...(flags.postcopy === true ? { postcopy: true } : {}), ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(flags.bandwidth === undefined ? {} : { bandwidthMiBs: Number(flags.bandwidth) }) }),
    );
    emit(flags, r, `${name} migrated to ${r.to} (downtime ${r.progress.downtimeMs ?? '?'} ms, ${Math.round((r.progress.transferredBytes ?? 0) / 1048576)} MiB sent in ${r.progress.totalTimeMs ?? '?'} ms)`);
  });
}
