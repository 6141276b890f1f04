/**
 * `vmkit define FILE... [--autostart] [--on-poweroff A] [--on-reboot A] [--on-crash A]`: store definitions.
 * Several files go to the daemon in batches (defineMany); each is defined or refused on its own.
 */
import { locateDefinition } from '../../config/index.js';
import type { PolicyAction } from '../../driver/policies.js';
import { statSync } from 'node:fs';
import { formatProblem, type Problem } from '../../errors.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { printJson } from '../output.js';
import { emit, withConnection, type ConnectFlags } from './remote.js';

export interface DefineFlags extends ConnectFlags {
  readonly autostart?: boolean;
  readonly onPoweroff?: string;
  readonly onReboot?: string;
  readonly onCrash?: string;
}

export function defineCommand(files: readonly string[], flags: DefineFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    // A bare name is looked up like `vmkit run` does ($QEMU_LAUNCHER_CONFIG_DIR/NAME.yml).
    const paths = files.map((file) => locateDefinition(file, { env: process.env, cwd: process.cwd(), exists: isFile }));
    const policies = {
      ...(flags.onPoweroff === undefined ? {} : { onPoweroff: flags.onPoweroff as PolicyAction }),
      ...(flags.onReboot === undefined ? {} : { onReboot: flags.onReboot as PolicyAction }),
      ...(flags.onCrash === undefined ? {} : { onCrash: flags.onCrash as PolicyAction }),
    };
    const opts = { ...(flags.autostart === undefined ? {} : { autostart: flags.autostart }), ...(Object.keys(policies).length > 0 ? { policies } : {}) };
    if (paths.length === 1) {
      const d = await conn.define({ path: paths[0] as string }, opts);
      const info = await d.info();
      emit(flags, info, `Domain '${info.name}' defined (uuid ${info.uuid}) from ${paths[0] as string}`);
      return EXIT.ok;
    }
    const outcomes = await conn.defineMany(paths.map((path) => ({ input: { path }, opts })));
    let exit: number = EXIT.ok;
    const json: object[] = [];
    for (const [i, o] of outcomes.entries()) {
      const path = paths[i] as string;
      if (o.ok) {
        const info = await o.domain.info();
        json.push({ file: path, domain: info });
        if (flags.json !== true) process.stdout.write(`Domain '${info.name}' defined (uuid ${info.uuid}) from ${path}\n`);
        continue;
      }
      if (exit === EXIT.ok || exitCodeFor(o.error.code) === EXIT.failure) exit = exitCodeFor(o.error.code);
      json.push({ file: path, error: o.error.toJSON() });
      if (flags.json !== true) {
        const problems = (o.error.details.problems as readonly Problem[] | undefined) ?? [];
        if (problems.length === 0) process.stderr.write(`vmkit: ${path}: ${o.error.message}\n`);
        for (const p of problems) process.stderr.write(`vmkit: ${formatProblem(p)}\n`);
      }
    }
    if (flags.json === true) printJson(json);
    else process.stderr.write(exit === EXIT.ok ? '' : `vmkit: ${outcomes.filter((o) => !o.ok).length} of ${outcomes.length} definitions refused\n`);
    return exit;
  });
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
