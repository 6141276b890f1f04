/**
 * The shipped build, after tsc: generates the precompiled schema modules (gen-validators.ts) into dist/gen/
 * and bundles the tsc output with esbuild into dist/bundle/, which bin/vmkit runs:
 *  - cli.js (the CLI, the daemon included), index.js (the library);
 *  - parse-thread.js, store-writer-thread.js, spawn-server.js: the daemon's worker threads and spawn
 *    server, loaded by URL next to the code that starts them (all output shares one directory);
 *  - chunk-*.js: code split so that each command loads what it needs (commands are imported lazily);
 *  - cli-*.js, domains-*.js, launch-*.js: esbuild's chunks re-chunked by rollup (rechunk.ts) into one file per
 *    GROUPS entry, so the hot commands load a few files, not dozens.
 * koffi (a native addon) stays external. The build fails if TypeBox or ajv's compiler got into the bundle.
 * Then the web dashboard's page (bundleWeb): web/app.ts with xterm.js and noVNC from node_modules, for the
 * browser, into dist/web/ (served by src/web/server.ts; nothing is fetched from a CDN).
 * `npm run build` runs tsc then this (node dist/scripts/bundle.js).
 */
import { build, type Metafile, type Plugin } from 'esbuild';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateModules } from './gen-validators.js';
import { rechunk, type ChunkGroup } from './rechunk.js';

/** This file runs as dist/scripts/bundle.js. */
const DIST = fileURLToPath(new URL('../', import.meta.url));
export const GEN_DIR = join(DIST, 'gen');
export const BUNDLE_DIR = join(DIST, 'bundle');
export const WEB_DIR = join(DIST, 'web');
const REPO_ROOT = join(DIST, '..');

const ENTRIES = {
  cli: 'src/cli/entry.js',
  index: 'src/index.js',
  'parse-thread': 'src/driver/parse-thread.js',
  'store-writer-thread': 'src/driver/store-writer-thread.js',
  'spawn-server': 'src/driver/spawn-server.js',
};

/**
 * What the hot commands load, merged (rechunk.ts): each group is the static-import closure of its roots (the
 * modules a command imports lazily on its way), less what an earlier group took.
 *  - cli: the command-line parser and dispatcher (commander), loaded by every command but `--version`;
 *  - domains: `vmkit list` and the other connection verbs: the client side, the embedded driver, the store;
 *  - launch: `vmkit run`, up to QEMU's spawn: the definition's fast path, host checks, argv, tuning, QMP.
 */
const GROUPS: readonly ChunkGroup[] = [
  { name: 'cli', roots: ['src/cli/main.js'] },
  { name: 'domains', roots: ['src/cli/commands/list.js', 'src/driver/connection.js'] },
  { name: 'launch', roots: ['src/cli/commands/run.js', 'src/driver/start-kit.js'] },
];

/** Modules that must never be in the bundle: the schema compilers. */
export const FORBIDDEN = [/node_modules\/@sinclair\/typebox\//, /node_modules\/ajv\/dist\/(ajv|core|compile|vocabularies)/];

/** Loads the generated module instead of each module it replaces. */
function replaceModules(replacements: ReadonlyMap<string, string>): Plugin {
  return {
    name: 'vmkit-generated-schemas',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
        const target = replacements.get(resolve(args.resolveDir, args.path));
        return target === undefined ? undefined : { path: target };
      });
    },
  };
}

/**
 * Node's modules that are not in its start-up snapshot and cost a few ms each to load: child_process, crypto,
 * http, net, worker_threads. Every command imports some of them through code it may not run (commander loads
 * child_process for executable subcommands vmkit has none of; `vmkit list` never spawns, hashes or starts a
 * thread). In the bundle they load on first use: the module is a stand-in whose exports are getters.
 */
const LAZY_BUILTINS = ['child_process', 'crypto', 'http', 'net', 'worker_threads'];

function lazyBuiltins(): Plugin {
  const require = createRequire(import.meta.url);
  return {
    name: 'vmkit-lazy-builtins',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`) }, (args) =>
        args.namespace === 'vmkit-lazy' ? undefined : { path: args.path.replace(/^node:/, ''), namespace: 'vmkit-lazy' },
      );
      b.onLoad({ filter: /.*/, namespace: 'vmkit-lazy' }, (args) => {
        const names = Object.keys(require(`node:${args.path}`) as object);
        return {
          loader: 'js',
          contents: `let m;\nconst load = () => (m ??= require('node:${args.path}'));\nfor (const k of ${JSON.stringify(names)}) Object.defineProperty(exports, k, { enumerable: true, get: () => load()[k] });\n`,
        };
      });
    },
  };
}

export async function bundle(): Promise<Metafile> {
  await rm(GEN_DIR, { recursive: true, force: true });
  await rm(BUNDLE_DIR, { recursive: true, force: true });
  await mkdir(GEN_DIR, { recursive: true });
  const replacements = new Map<string, string>();
  for (const m of generateModules()) {
    await writeFile(join(GEN_DIR, m.file), m.text);
    if (m.replaces !== undefined) replacements.set(join(DIST, 'src', m.replaces), join(GEN_DIR, m.file));
  }
  const result = await build({
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, path]) => [name, join(DIST, path)])),
    outdir: BUNDLE_DIR,
    write: false,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // ws's optional native speed-ups are not installed: it runs without them.
    external: ['koffi', 'bufferutil', 'utf-8-validate'],
    // CommonJS dependencies (commander, ajv's run-time helpers) call require() for Node's modules.
    banner: { js: "import { createRequire as __vmkitCreateRequire } from 'node:module'; const require = __vmkitCreateRequire(import.meta.url);" },
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    // Whitespace and syntax only: identifiers (class names in errors, stack frames) stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    plugins: [replaceModules(replacements), lazyBuiltins()],
  });
  const forbidden = Object.keys(result.metafile.inputs).filter((f) => FORBIDDEN.some((re) => re.test(f)));
  if (forbidden.length > 0) throw new Error(`the bundle would load a schema compiler at run time:\n  ${forbidden.join('\n  ')}`);
  const missing = [...replacements.keys()].filter((f) => relative(process.cwd(), f) in result.metafile.inputs);
  if (missing.length > 0) throw new Error(`the bundle still holds modules that generated ones replace: ${missing.join(', ')}`);
  const metafile = await rechunk({
    files: new Map(result.outputFiles.map((f) => [f.path, f.text])),
    metafile: result.metafile,
    entries: Object.fromEntries(Object.keys(ENTRIES).map((name) => [name, join(BUNDLE_DIR, `${name}.js`)])),
    light: ['cli'],
    groups: GROUPS.map((g) => ({ name: g.name, roots: g.roots.map((r) => relative(process.cwd(), join(DIST, r))) })),
    outDir: BUNDLE_DIR,
    cwd: process.cwd(),
    external: (id) => !id.startsWith('.') && !id.startsWith('/'),
  });
  await writeFile(join(BUNDLE_DIR, 'meta.json'), JSON.stringify(metafile));
  await bundleWeb();
  return metafile;
}

/** The dashboard for the browser: app.js (+ a lazily loaded noVNC chunk), app.css, index.html. */
export async function bundleWeb(): Promise<void> {
  await rm(WEB_DIR, { recursive: true, force: true });
  await build({
    entryPoints: { app: join(REPO_ROOT, 'web/app.ts') },
    outdir: WEB_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  await copyFile(join(REPO_ROOT, 'web/index.html'), join(WEB_DIR, 'index.html'));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  bundle().then(
    (meta) => process.stderr.write(`bundle: ${Object.keys(meta.outputs).filter((f) => f.endsWith('.js')).length} files in ${relative(process.cwd(), BUNDLE_DIR)}\n`),
    (e: unknown) => {
      process.stderr.write(`bundle: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
