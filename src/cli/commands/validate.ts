import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { locateDefinition, validateDefinition } from '../../config/index.js';
import { formatProblem, VmkitError } from '../../errors.js';
import { existsSync } from 'node:fs';
import { EXIT } from '../exit-codes.js';
import { printJson, reportError } from '../output.js';

/** `vmkit validate FILE`: reports every problem at once; exit 2 if there is any. */
export async function validateCommand(file: string, flags: { json?: boolean }): Promise<number> {
  let path: string;
  let text: string;
  try {
    path = locateDefinition(file, { env: process.env, cwd: process.cwd(), exists: existsSync });
    text = await readFile(path, 'utf8');
  } catch (e) {
    return reportError(e instanceof VmkitError ? e : new VmkitError('NotFound', `Cannot read ${file}: ${(e as Error).message}`), flags);
  }
  const problems = validateDefinition(text, { file: path, baseDir: dirname(resolve(path)) });
  if (flags.json === true) printJson({ file: path, valid: problems.length === 0, problems });
  else if (problems.length === 0) process.stdout.write(`${path}: valid\n`);
  else {
    for (const p of problems) process.stdout.write(`${formatProblem(p)}\n`);
    process.stdout.write(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${path}\n`);
  }
  return problems.length === 0 ? EXIT.ok : EXIT.badInput;
}
