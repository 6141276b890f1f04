/**
 * The body of a definition-parsing worker thread (see parse-pool.ts). In: {id, text, file?, baseDir}.
 * Out: {id, spec} or {id, error: {code, message, details}} (ConfigError problems are in details.problems).
 */
import { parentPort } from 'node:worker_threads';
import { parseDefinition } from '../config/index.js';
import { VmkitError } from '../errors.js';

interface ParseRequest {
  readonly id: number;
  readonly text: string;
  readonly file?: string;
  readonly baseDir: string;
}

parentPort?.on('message', (m: ParseRequest) => {
  try {
    const spec = parseDefinition(m.text, { ...(m.file === undefined ? {} : { file: m.file }), baseDir: m.baseDir });
    parentPort?.postMessage({ id: m.id, spec });
  } catch (e) {
    const error = e instanceof VmkitError ? e.toJSON() : { code: 'Internal', message: e instanceof Error ? e.message : String(e), details: {} };
    parentPort?.postMessage({ id: m.id, error });
  }
});
