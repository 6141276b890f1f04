/** Finding a definition file from a command-line argument, qemu-launcher style. Pure (existence is injected). */
import { resolve } from 'node:path';
import { VmkitError } from '../errors.js';

export const DEFAULT_LAUNCHER_CONFIG_DIR = '/usr/local/etc/qemu-launcher';

const DEFINITION_EXT = /\.(ya?ml|xml|json)$/i;

/**
 * A path (contains `/` or ends in .yml/.yaml/.xml/.json) is used as is, relative to `cwd`. A bare name `foo`
 * is tried as `./foo`, then as `$QEMU_LAUNCHER_CONFIG_DIR/foo.yml` (default /usr/local/etc/qemu-launcher).
 * A name with an extension but no `/` is also tried in the configuration directory.
 * Throws VmkitError('NotFound') naming every place tried.
 */
export function locateDefinition(
  arg: string,
  opts: { env: NodeJS.ProcessEnv; cwd: string; exists: (p: string) => boolean },
): string {
  if (arg.trim() === '') {
    throw new VmkitError('InvalidArgument', 'No definition given: pass a file path or the name of a definition in the configuration directory');
  }
  const configured = opts.env.QEMU_LAUNCHER_CONFIG_DIR;
  const dir = resolve(opts.cwd, configured === undefined || configured === '' ? DEFAULT_LAUNCHER_CONFIG_DIR : configured);
  const candidates: string[] = [resolve(opts.cwd, arg)];
  if (!arg.includes('/')) candidates.push(resolve(dir, DEFINITION_EXT.test(arg) ? arg : `${arg}.yml`));
  for (const c of candidates) {
    if (opts.exists(c)) return c;
  }
  throw new VmkitError('NotFound', `Cannot find definition ${JSON.stringify(arg)}: tried ${candidates.join(', ')}${arg.includes('/') ? '' : ' (set QEMU_LAUNCHER_CONFIG_DIR to look elsewhere)'}`, {
    details: { arg, tried: candidates },
  });
}
