import { argvContext } from '../../process/argv-context.js';
import { findExecutable } from '../../host/path-lookup.js';
import { buildArgv, describeArgv } from '../../qemu/argv/index.js';
import type { DomainSpec } from '../../model/domain.js';
import { runDirPaths } from '../../process/state-dir.js';
import { loadChecked } from '../definition.js';
import { previewTuning } from '../tuning-preview.js';
import { EXIT } from '../exit-codes.js';
import { printJson, reportError } from '../output.js';
import { placeError } from '../place-error.js';

/** Where `vmkit argv` shows the run directory, which only exists once a run starts. */
export const RUN_DIR_PLACEHOLDER = '$VMKIT_RUN_DIR';

/**
 * `vmkit argv FILE`: the QEMU command line `vmkit run` would use, one argument per line (the binary
 * first; an argument with blanks at its ends or control characters is shown as a JSON string). The run
 * directory is created per run, so its paths show as $VMKIT_RUN_DIR.
 */
export async function argvCommand(file: string, flags: { json?: boolean; lenient?: boolean }): Promise<number> {
  let definition: { spec: DomainSpec; text: string } | undefined;
  try {
    const { spec, caps, text, warnings } = await loadChecked(file, { lenient: flags.lenient === true, quiet: flags.json === true });
    definition = { spec, text };
    const ctx = await argvContext(spec, runDirPaths(RUN_DIR_PLACEHOLDER), caps);
    const argv = buildArgv(spec, ctx);
    const binary = (await findExecutable(spec.emulator)) ?? spec.emulator;
    const tuning = await previewTuning(spec);
    if (flags.json === true) printJson({ binary, argv, accel: ctx.accel, ...(tuning === undefined ? {} : { tuning: tuning.split('\n') }), warnings });
    else {
      process.stdout.write(`${describeArgv([binary, ...argv])}\n`);
      // stdout stays the exact argv; the plan goes to stderr
      if (tuning !== undefined) process.stderr.write(`tuning plan (applied while QEMU is paused, before the guest runs):\n${tuning.replace(/^/gm, '  ')}\n`);
    }
    return EXIT.ok;
  } catch (e) {
    return reportError(await placeError(e, definition), flags);
  }
}
