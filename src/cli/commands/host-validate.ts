import { checksJson, formatChecks, hostValid, validateHost } from '../../host/validate/index.js';
import { EXIT } from '../exit-codes.js';
import { printJson, reportError } from '../output.js';

/**
 * `vmkit host validate [--json]`: one line per host check with PASS / WARN / FAIL and a remedy.
 * Exit 0 when nothing failed, 1 otherwise.
 */
export async function hostValidateCommand(flags: { json?: boolean }): Promise<number> {
  try {
    const results = await validateHost({ timeoutMs: 60_000 });
    if (flags.json === true) printJson(checksJson(results));
    else process.stdout.write(`${formatChecks(results)}\n`);
    return hostValid(results) ? EXIT.ok : EXIT.failure;
  } catch (e) {
    return reportError(e, flags);
  }
}
