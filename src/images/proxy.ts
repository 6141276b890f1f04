/**
 * Which proxy a download goes through (virt-builder's `proxy=` of a repository): none, the system's
 * (`http_proxy` / `https_proxy`, `no_proxy`, as curl reads them: lower-case `http_proxy` only), or a
 * given URL. Pure.
 */
import type { ProxyMode } from './repo-config.js';

/** The proxy URL for `target`, or undefined for a direct connection. */
export function proxyFor(target: URL, mode: ProxyMode, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return undefined;
  if (mode.kind === 'none') return undefined;
  let raw: string | undefined;
  if (mode.kind === 'url') raw = mode.url;
  else {
    if (noProxy(target.hostname, env.no_proxy ?? env.NO_PROXY ?? '')) return undefined;
    raw = target.protocol === 'https:' ? (env.https_proxy ?? env.HTTPS_PROXY) : env.http_proxy;
    raw ??= env.all_proxy ?? env.ALL_PROXY;
  }
  if (raw === undefined || raw === '') return undefined;
  try {
    return new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    return undefined;
  }
}

/** curl's `no_proxy`: `*`, or host names / domain suffixes separated by commas (a leading dot allowed). */
export function noProxy(host: string, list: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return list
    .split(',')
    .map((s) => s.trim().toLowerCase().replace(/^\./, ''))
    .filter((s) => s !== '')
    .some((s) => s === '*' || h === s || h.endsWith(`.${s}`));
}
