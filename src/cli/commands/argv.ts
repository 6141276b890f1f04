import { loadDefinitionFile } from '../../config/index.js';
import { resolveAccel } from '../../host/accel.js';
import { findExecutable } from '../../host/path-lookup.js';
import { buildArgv } from '../../qemu/argv/index.js';
import { runDirPaths } from '../../process/state-dir.js';
import { EXIT } from '../exit-codes.js';
import { printJson, reportError } from '../output.js';

/** Where `vmkit argv` shows the run directory, which only exists once a run starts. */
export const RUN_DIR_PLACEHOLDER = '$VMKIT_RUN_DIR';

/**
 * `vmkit argv FILE`: the QEMU command line `vmkit run` would use, one argument per line (the binary
 * first). The run directory is created per run, so its paths show as $VMKIT_RUN_DIR.
 */
export async function argvCommand(file: string, flags: { json?: boolean }): Promise<number> {
  try {
    const spec = await loadDefinitionFile(file);
    const accel = await resolveAccel(spec.machine.accel);
    const argv = buildArgv(spec, { paths: runDirPaths(RUN_DIR_PLACEHOLDER), accel });
    const binary = (await findExecutable(spec.emulator)) ?? spec.emulator;
    if (flags.json === true) printJson({ binary, argv, accel });
    else process.stdout.write(`${[binary, ...argv].join('\n')}\n`);
    return EXIT.ok;
  } catch (e) {
    return reportError(e, flags);
  }
}
