/**
 * Template repositories, configured the way virt-builder is ("SOURCES OF TEMPLATES" in virt-builder(1)):
 * `*.conf` files in `repos.d` directories, each section a repository with `uri=` (the index, `index.asc` when
 * signed), `gpgkey=file:///...` (the signing key), `proxy=` (`no`/`off`, `system`, or a proxy URL) and
 * `format=native`. vmkit reads virt-builder's own directories unchanged, after its own:
 *   $XDG_CONFIG_HOME/vmkit/repos.d, /etc/vmkit/repos.d,
 *   $XDG_CONFIG_HOME/virt-builder/repos.d, then each of $VIRT_BUILDER_DIRS (default /etc) + /virt-builder/repos.d.
 * `VMKIT_REPOS_DIRS` (colon-separated repos.d directories) replaces that list. A file name seen in an earlier
 * directory hides the same name later; a repository name seen earlier hides a later one (virt-builder's rules).
 */
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Problem } from '../errors.js';
import { readIni } from './ini.js';

export type ProxyMode = { readonly kind: 'system' } | { readonly kind: 'none' } | { readonly kind: 'url'; readonly url: string };

export interface RepoConfig {
  /** The section name: the repository's identifier. */
  readonly name: string;
  /** The index file's URI. */
  readonly uri: string;
  /** The signing key's path (from `gpgkey=file://PATH`); absent: the index is unsigned. */
  readonly gpgkey?: string;
  readonly proxy: ProxyMode;
  /** The .conf file it came from. */
  readonly file: string;
}

/** Parses one .conf file. Repositories vmkit cannot use are left out with a warning (virt-builder skips them too). */
export function parseRepoConf(text: string, file: string): { repos: RepoConfig[]; warnings: Problem[] } {
  const { sections, problems } = readIni(text, file);
  const warnings: Problem[] = [...problems];
  const repos: RepoConfig[] = [];
  for (const s of sections) {
    const get = (k: string): string | undefined => s.fields.find((f) => f.key === k && f.subkey === undefined)?.value;
    const warn = (message: string): void => {
      warnings.push({ file, line: s.line, col: 1, path: `[${s.name}]`, message });
    };
    const uri = get('uri');
    if (uri === undefined || uri === '') {
      warn(`No uri= entry for repository '${s.name}': it is skipped`);
      continue;
    }
    const format = get('format') ?? 'native';
    if (format !== 'native' && format !== '') {
      warn(`Repository '${s.name}' has format=${format}: vmkit reads only format=native; it is skipped`);
      continue;
    }
    let gpgkey: string | undefined;
    const key = get('gpgkey');
    if (key !== undefined && key !== '') {
      if (key.startsWith('file://')) gpgkey = decodeURIComponent(key.slice('file://'.length).replace(/^localhost(?=\/)/, ''));
      else warn(`gpgkey=${key} of repository '${s.name}' is not a file:// URI (the only kind accepted): its index counts as unsigned`);
    }
    const p = get('proxy');
    const proxy: ProxyMode = p === undefined || p === 'system' ? { kind: 'system' } : p === 'no' || p === 'off' ? { kind: 'none' } : { kind: 'url', url: p };
    repos.push({ name: s.name, uri, ...(gpgkey === undefined ? {} : { gpgkey }), proxy, file });
  }
  return { repos, warnings };
}

/** The repos.d directories searched, in order (see the module comment). */
export function repoDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.VMKIT_REPOS_DIRS !== undefined && env.VMKIT_REPOS_DIRS !== '') return env.VMKIT_REPOS_DIRS.split(':').filter((d) => d.startsWith('/'));
  const configHome = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME?.startsWith('/') === true ? env.HOME : homedir(), '.config');
  const vbDirs = (env.VIRT_BUILDER_DIRS ?? '/etc').split(':').filter((d) => d.startsWith('/'));
  return [join(configHome, 'vmkit', 'repos.d'), '/etc/vmkit/repos.d', join(configHome, 'virt-builder', 'repos.d'), ...vbDirs.map((d) => join(d, 'virt-builder', 'repos.d'))];
}

/** Reads every repository configured in `dirs` (missing directories are skipped). */
export async function readRepos(dirs: readonly string[] = repoDirs()): Promise<{ repos: RepoConfig[]; warnings: Problem[] }> {
  const seenFiles = new Set<string>();
  const repos: RepoConfig[] = [];
  const warnings: Problem[] = [];
  for (const dir of dirs) {
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.conf') && !seenFiles.has(n)).sort();
    for (const n of names) {
      const file = join(dir, n);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        warnings.push({ file, path: '', message: `Cannot read ${file}: ${(e as Error).message}` });
        continue;
      }
      const parsed = parseRepoConf(text, file);
      seenFiles.add(n);
      warnings.push(...parsed.warnings);
      for (const r of parsed.repos) if (!repos.some((x) => x.name === r.name)) repos.push(r);
    }
  }
  return { repos, warnings };
}
