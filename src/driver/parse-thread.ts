/**
 * The body of a definition-parsing worker thread (see parse-pool.ts). In: {id, text, file?, baseDir}.
 * Out: {id, spec} or {id, error: {code, message, details}} (ConfigError problems are in details.problems).
 * It first reads one small definition of each format (compiling their schemas) and then says
 * {ready: true}: the pool's time limit on a parse starts after that.
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

const WARM_UP = [
  'name: warm-up\nmachine: q35\nmemory: 128M\ndisks:\n  - { path: /nonexistent/a.qcow2, format: qcow2 }\n',
  'launcher:\n  binary: /usr/bin/qemu-system-x86_64\nqemu:\n- name: warm-up\n- m: 128M\n',
  "<domain type='kvm'><name>warm-up</name><memory unit='MiB'>128</memory><os><type>hvm</type></os></domain>",
];
for (const text of WARM_UP) {
  try {
    parseDefinition(text, { baseDir: '/' });
  } catch {
    // Only the compiled schemas matter here.
  }
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
parentPort?.postMessage({ ready: true });
