/** Where capability caches live. */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** A connection's own cache: `<root>/cache/caps`. */
export function connectionCacheDir(root: string): string {
  return join(root, 'cache', 'caps');
}

/**
 * The cache shared by every vmkit process of this user, for the CLI and throw-away roots (`vmkit run` uses
 * a fresh root per run, whose own cache would always be cold): `$VMKIT_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/vmkit/caps`, else `/var/cache/vmkit/caps` for root and `~/.cache/vmkit/caps` for others.
 */
export function sharedCacheDir(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? -1): string {
  if (env.VMKIT_CACHE_DIR !== undefined && env.VMKIT_CACHE_DIR.startsWith('/')) return env.VMKIT_CACHE_DIR;
  if (env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME.startsWith('/')) return join(env.XDG_CACHE_HOME, 'vmkit', 'caps');
  if (uid === 0) return '/var/cache/vmkit/caps';
  return join(env.HOME !== undefined && env.HOME.startsWith('/') ? env.HOME : homedir(), '.cache', 'vmkit', 'caps');
}
