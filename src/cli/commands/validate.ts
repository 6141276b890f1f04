import { dirname } from 'node:path';
import { parseDefinition, readDefinitionFile, validateDefinition } from '../../config/index.js';
import { ConfigError, formatProblem, type Problem } from '../../errors.js';
import { hostProblems, placeProblems, withPositions } from '../../host/caps/index.js';
import { checkTuning } from '../../tuning/index.js';
import { capsCacheFor } from '../../process/host-check.js';
import { EXIT } from '../exit-codes.js';
import { printJson, reportError } from '../output.js';

/**
 * `vmkit validate FILE`: reports every problem at once, those of the file and (unless --no-host) those of
 * this host's QEMU binary (machine types, CPU models, devices, accelerators); exit 2 if there is any.
 */
export async function validateCommand(file: string, flags: { json?: boolean; host?: boolean; lenient?: boolean }): Promise<number> {
  let path: string;
  let text: string;
  try {
    ({ path, text } = await readDefinitionFile(file));
  } catch (e) {
    return reportError(e, flags);
  }
  const warnings: Problem[] = [];
  const opts = { file: path, baseDir: dirname(path), lenient: flags.lenient === true, onWarning: (w: Problem) => warnings.push(w) };
  const problems: Problem[] = [...validateDefinition(text, opts)];
  if (problems.length === 0 && flags.host !== false) {
    try {
      const spec = parseDefinition(text, { ...opts, onWarning: undefined });
      problems.push(...(await hostProblems(spec, { cache: capsCacheFor(), text, file: path })).problems);
      // This host's CPUs and limits: pins, priorities, memlock, isolation (what `run` would refuse or change).
      await checkTuning(spec, { onWarning: (w) => warnings.push(...withPositions([{ file: path, ...w }], spec, text)) }).catch((e: unknown) => {
        throw placeProblems(e, spec, text);
      });
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems);
      else return reportError(e, flags);
    }
  }
  if (flags.json === true) {
    printJson({ file: path, valid: problems.length === 0, problems, warnings });
  } else {
    for (const w of warnings) process.stdout.write(`warning: ${formatProblem(w)}\n`);
    for (const p of problems) process.stdout.write(`${formatProblem(p)}\n`);
    const warned = warnings.length === 0 ? '' : ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'})`;
    if (problems.length === 0) process.stdout.write(`${path}: valid${warned}\n`);
    else process.stdout.write(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${path}${warned}\n`);
  }
  return problems.length === 0 ? EXIT.ok : EXIT.badInput;
}
