import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/guest.js';

export const BUNDLE_DIR = join(REPO, 'dist/bundle');
export const GEN_DIR = join(REPO, 'dist/gen');

/** Fails unless `npm run build` ran after the last tsc: the bundle must be built from this tsc output. */
export function assertBundleFresh(): void {
  const bundle = statSync(join(BUNDLE_DIR, 'cli.js'), { throwIfNoEntry: false });
  const tsc = statSync(join(REPO, 'dist/src/cli/entry.js'));
  if (bundle === undefined || bundle.mtimeMs < tsc.mtimeMs) {
    throw new Error('dist/bundle is missing or older than the tsc output: run `npm run build` (tsc, then node dist/scripts/bundle.js)');
  }
}

/**
 * Writes a preload module (for `node --import` or NODE_OPTIONS) that appends to `logFile` every module the
 * process (and its worker threads) loads: ES modules through a resolve hook, CommonJS ones through require.
 */
export function writeLoadRecorder(dir: string, logFile: string): string {
  const hooks = join(dir, 'record-hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(logFile)}, r.url + '\\n');
  return r;
}
`,
  );
  const preload = join(dir, 'record-loads.mjs');
  writeFileSync(
    preload,
    `import Module, { register } from 'node:module';
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
register(${JSON.stringify(`file://${hooks}`)});
const load = Module._load;
Module._load = function (request, parent, isMain) {
  try {
    appendFileSync(${JSON.stringify(logFile)}, pathToFileURL(Module._resolveFilename(request, parent, isMain)).href + '\\n');
  } catch {}
  return load.apply(this, arguments);
};
`,
  );
  return preload;
}

/** The modules a recorder's log lists, without duplicates. */
export function loadedModules(logFile: string): string[] {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  return [...new Set(text.split('\n').filter((l) => l !== ''))];
}

/** Modules that compile schemas: none may be loaded by a shipped vmkit. */
export function schemaCompilers(urls: readonly string[]): string[] {
  return urls.filter((u) => /\/node_modules\/@sinclair\/typebox\//.test(u) || /\/node_modules\/ajv\/dist\/(ajv|core|compile|vocabularies)/.test(u));
}

/**
 * The source modules and packages bundled into the chunks among `urls` (the bundle's metafile maps each
 * output file to its inputs): what a run really loaded, though the bundle inlines it.
 */
export function bundledInputs(urls: readonly string[]): string[] {
  const meta = JSON.parse(readFileSync(join(BUNDLE_DIR, 'meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  const inputs = new Set<string>();
  for (const [out, o] of Object.entries(meta.outputs)) {
    if (urls.includes(`file://${join(REPO, out)}`)) for (const input of Object.keys(o.inputs)) inputs.add(input);
  }
  return [...inputs].sort();
}

/** Runs `node args...` to its end. */
export function runNode(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
