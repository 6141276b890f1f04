/** `vmkit define FILE [--autostart] [--on-poweroff A] [--on-reboot A] [--on-crash A]`: store a definition. */
import { locateDefinition } from '../../config/index.js';
import type { PolicyAction } from '../../driver/policies.js';
import { statSync } from 'node:fs';
import { emit, withConnection, type ConnectFlags } from './remote.js';

export interface DefineFlags extends ConnectFlags {
  readonly autostart?: boolean;
  readonly onPoweroff?: string;
  readonly onReboot?: string;
  readonly onCrash?: string;
}

export function defineCommand(file: string, flags: DefineFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    // A bare name is looked up like `vmkit run` does ($QEMU_LAUNCHER_CONFIG_DIR/NAME.yml).
    const path = locateDefinition(file, { env: process.env, cwd: process.cwd(), exists: isFile });
    const policies = {
      ...(flags.onPoweroff === undefined ? {} : { onPoweroff: flags.onPoweroff as PolicyAction }),
      ...(flags.onReboot === undefined ? {} : { onReboot: flags.onReboot as PolicyAction }),
      ...(flags.onCrash === undefined ? {} : { onCrash: flags.onCrash as PolicyAction }),
    };
    const d = await conn.define({ path }, { ...(flags.autostart === undefined ? {} : { autostart: flags.autostart }), ...(Object.keys(policies).length > 0 ? { policies } : {}) });
    const info = await d.info();
    emit(flags, info, `Domain '${info.name}' defined (uuid ${info.uuid}) from ${path}`);
  });
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
