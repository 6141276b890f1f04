// The modules themselves, not host/caps/index.js: that barrel would load every locator and format reader.
import { sharedCacheDir } from '../host/caps/cache-dir.js';
import { CapsCache } from '../host/caps/caps-cache.js';
import { checkSpecAgainstHost } from '../host/caps/check-spec.js';
import type { QemuCaps } from '../host/caps/types.js';
import type { DomainSpec } from '../model/domain.js';

const caches = new Map<string, CapsCache>();

/**
 * The capabilities cache for `dir` (default: the shared cache directory), one per directory per process so
 * that its in-memory memo and its coalescing of concurrent probes are shared by every connection.
 */
export function capsCacheFor(dir: string = sharedCacheDir()): CapsCache {
  let cache = caches.get(dir);
  if (cache === undefined) {
    cache = new CapsCache({ cacheDir: dir });
    caches.set(dir, cache);
  }
  return cache;
}

/**
 * One capability look-up for one operation: rejects (ConfigError, every problem) a spec asking for a
 * machine, CPU model, device or accelerator the binary lacks, before anything starts.
 */
export function checkHost(spec: DomainSpec, opts: { cache?: CapsCache; text?: string; file?: string; signal?: AbortSignal } = {}): Promise<QemuCaps> {
  return checkSpecAgainstHost(spec, {
    cache: opts.cache ?? capsCacheFor(),
    ...(opts.text === undefined ? {} : { text: opts.text }),
    ...(opts.file === undefined ? {} : { file: opts.file }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
}
