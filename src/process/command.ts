import type { Identity } from '../host/accounts.js';
import type { ProcessSpec } from '../model/domain.js';

/**
 * The command that starts QEMU: `setpriv --pdeathsig KILL [identity] -- qemu argv...`. setpriv sets
 * PR_SET_PDEATHSIG in the child before exec, so QEMU is killed when the vmkit thread that spawned it dies.
 * With `pdeathsig: false` (daemon mode: QEMU outlives a daemon restart) that option is left out.
 * Arguments are passed as a vector: no shell is involved anywhere.
 */
export function qemuCommand(
  setpriv: string,
  qemu: string,
  argv: readonly string[],
  identity?: Identity,
  opts: { readonly pdeathsig?: boolean } = {},
): { file: string; args: string[] } {
  const args = opts.pdeathsig === false ? [] : ['--pdeathsig', 'KILL'];
  if (identity !== undefined) {
    args.push(`--regid=${identity.gid}`, `--groups=${identity.groups.join(',')}`, `--reuid=${identity.uid}`);
  }
  args.push('--', qemu, ...argv);
  return { file: setpriv, args };
}

/** QEMU's environment: vmkit's own (unless clear_env) plus the definition's `env`. */
export function qemuEnvironment(spec: ProcessSpec, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // QEMU is started by absolute path, so a cleared environment needs no PATH.
  return { ...(spec.clearEnv ? {} : base), ...spec.env };
}
