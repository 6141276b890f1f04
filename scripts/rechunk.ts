/**
 * The bundle's second stage: esbuild's code splitting, re-chunked with rollup so that a hot command loads a
 * few files instead of dozens.
 *
 * esbuild puts every module into the chunk of the exact set of entry points (dynamic import targets
 * included) that reach it. vmkit imports commands and rarely used code lazily (about 90 import targets), so
 * a module shared by a few of them lands in a chunk of its own: `vmkit list` loaded 29 files, `vmkit run` 60,
 * and Node's ES module loader costs about 0.4-0.8 ms per file (resolve, read, compile, link, one round each).
 * Here each GROUP merges what a family of commands loads: the static-import closure of its roots, in
 * esbuild's output, less what an earlier group or the entry's own closure (`vmkit --version`) took. A command
 * using a group loads all of it; code outside the groups stays split as esbuild split it.
 *
 * Input and output are ES modules; esbuild's output is fed from memory (no intermediate directory), its
 * source maps chained through, and a metafile in esbuild's shape (outputs with their source inputs) written
 * for the tests that check what a command loaded.
 */
import { rollup, type OutputChunk, type Plugin } from 'rollup';
import { basename, join, relative } from 'node:path';
import type { Metafile } from 'esbuild';

/** A group: a chunk name and the source modules (metafile input paths) whose closures it holds. */
export interface ChunkGroup {
  readonly name: string;
  readonly roots: readonly string[];
}

export interface RechunkInput {
  /** esbuild's output files (absolute paths) and their text, maps included. */
  readonly files: ReadonlyMap<string, string>;
  readonly metafile: Metafile;
  /** Entry name → absolute output path, as esbuild wrote them. */
  readonly entries: Readonly<Record<string, string>>;
  /** The entries (names) whose static imports stay out of every group. */
  readonly light: readonly string[];
  readonly groups: readonly ChunkGroup[];
  readonly outDir: string;
  /** The directory esbuild's metafile paths are relative to. */
  readonly cwd: string;
  /** Module ids that stay imports (Node's modules and the external packages). */
  readonly external: (id: string) => boolean;
}

/**
 * esbuild's output chunk (absolute path) → the chunk rollup writes it into: its group's, or a chunk of its own
 * (`keep-` and its file name, so rollup neither merges it nor pulls it into a group that imports it). Entry
 * files are left to rollup (each stays its own file). What the light entries load statically stays out of
 * every group: `vmkit --version` (cli.js) loads only that.
 */
export function assignChunks(metafile: Metafile, cwd: string, entries: readonly string[], light: readonly string[], groups: readonly ChunkGroup[]): Map<string, string> {
  const outputs = metafile.outputs;
  // A module is reached through its entry chunk when it is an import target (that chunk imports all its
  // chunks need), else through the chunk holding it.
  const byInput = new Map<string, string>();
  for (const [out, o] of Object.entries(outputs)) for (const input of Object.keys(o.inputs)) if (!byInput.has(input)) byInput.set(input, out);
  for (const [out, o] of Object.entries(outputs)) if (o.entryPoint !== undefined) byInput.set(o.entryPoint, out);
  const closure = (start: readonly string[]): Set<string> => {
    const seen = new Set<string>();
    const stack = [...start];
    while (stack.length > 0) {
      const out = stack.pop() as string;
      if (seen.has(out)) continue;
      seen.add(out);
      for (const imp of outputs[out]?.imports ?? []) if (imp.kind === 'import-statement' && !imp.external) stack.push(imp.path);
    }
    return seen;
  };
  const entryOutputs = new Set(entries.map((e) => relative(cwd, e)));
  const taken = closure(light.map((e) => relative(cwd, e)));
  const assigned = new Map<string, string>();
  for (const g of groups) {
    const starts = g.roots.map((root) => {
      const out = byInput.get(root);
      if (out === undefined) throw new Error(`chunk group ${g.name}: root ${root} is not in the bundle (moved or renamed? update GROUPS in scripts/bundle.ts)`);
      return out;
    });
    for (const out of closure(starts)) {
      if (taken.has(out) || entryOutputs.has(out)) continue;
      taken.add(out);
      assigned.set(join(cwd, out), `group-${g.name}`);
    }
  }
  for (const out of Object.keys(outputs)) {
    const path = join(cwd, out);
    if (out.endsWith('.js') && !entryOutputs.has(out) && !assigned.has(path)) assigned.set(path, `keep-${basename(out, '.js')}`);
  }
  return assigned;
}

const MAP_COMMENT = /\n?\/\/# sourceMappingURL=[^\n]*\s*$/;

/** Serves esbuild's in-memory output to rollup. */
function fromMemory(files: ReadonlyMap<string, string>, external: (id: string) => boolean): Plugin {
  return {
    name: 'vmkit-esbuild-output',
    resolveId(source, importer) {
      if (importer === undefined) return files.has(source) ? source : null;
      if (source.startsWith('./') || source.startsWith('../')) {
        const path = join(importer, '..', source);
        if (!files.has(path)) throw new Error(`${importer} imports ${source}, which esbuild did not write`);
        return path;
      }
      if (external(source)) return { id: source, external: true };
      throw new Error(`${importer} imports ${source}, which is neither a bundle file nor external`);
    },
    load(id) {
      const code = files.get(id);
      if (code === undefined) return null;
      const map = files.get(`${id}.map`);
      return { code: code.replace(MAP_COMMENT, '\n'), map: map ?? null };
    },
  };
}

/** Writes the re-chunked bundle into `outDir`; returns its metafile (esbuild's shape, rollup's files). */
export async function rechunk(input: RechunkInput): Promise<Metafile> {
  const light = input.light.map((name) => {
    const path = input.entries[name];
    if (path === undefined) throw new Error(`rechunk: light entry ${name} is not an entry`);
    return path;
  });
  const chunkOf = assignChunks(input.metafile, input.cwd, Object.values(input.entries), light, input.groups);
  const build = await rollup({
    input: input.entries,
    plugins: [fromMemory(input.files, input.external)],
    // esbuild already dropped what is unused; every module's top level runs as esbuild ordered it.
    treeshake: false,
    onwarn(w, warn) {
      // Cycles between modules are esbuild's to order (and it did); a cycle between written chunks is not.
      if (w.code === 'CIRCULAR_DEPENDENCY') return;
      if (w.code === 'CYCLIC_CROSS_CHUNK_REEXPORT' || /circular chunk/i.test(w.message)) throw new Error(`rechunk: ${w.message}`);
      warn(w);
    },
  });
  let written: OutputChunk[];
  try {
    const { output } = await build.write({
      dir: input.outDir,
      format: 'es',
      entryFileNames: '[name].js',
      chunkFileNames: (c) => (c.name.startsWith('group-') ? `${c.name.slice('group-'.length)}-[hash].js` : 'chunk-[hash].js'),
      manualChunks: (id) => chunkOf.get(id),
      // An entry imports only what it needs: `vmkit --version` must not start loading the groups.
      hoistTransitiveImports: false,
      sourcemap: true,
    });
    written = output.filter((o): o is OutputChunk => o.type === 'chunk');
  } finally {
    await build.close();
  }
  return metafileOf(written, input);
}

/** The metafile of rollup's output: each file's source inputs are those of the esbuild chunks it holds. */
function metafileOf(chunks: readonly OutputChunk[], input: RechunkInput): Metafile {
  const outputs: Metafile['outputs'] = {};
  const key = (file: string): string => relative(input.cwd, join(input.outDir, file));
  const written = new Set(chunks.map((c) => c.fileName));
  const ref = (p: string, kind: 'import-statement' | 'dynamic-import') => (written.has(p) ? { path: key(p), kind } : { path: p, kind, external: true });
  for (const c of chunks) {
    const inputs: Metafile['outputs'][string]['inputs'] = {};
    for (const id of Object.keys(c.modules)) {
      for (const [src, v] of Object.entries(input.metafile.outputs[relative(input.cwd, id)]?.inputs ?? {})) inputs[src] = v;
    }
    const entry = c.facadeModuleId === null ? undefined : input.metafile.outputs[relative(input.cwd, c.facadeModuleId)]?.entryPoint;
    outputs[key(c.fileName)] = {
      bytes: Buffer.byteLength(c.code),
      inputs,
      imports: [...c.imports.map((p) => ref(p, 'import-statement')), ...c.dynamicImports.map((p) => ref(p, 'dynamic-import'))],
      exports: c.exports,
      ...(entry === undefined ? {} : { entryPoint: entry }),
    };
  }
  return { inputs: input.metafile.inputs, outputs };
}
