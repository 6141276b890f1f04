/**
 * `conn.images` and `conn.volumes` without loading their code: each method loads the implementation on its
 * first call, so a connection that never touches storage (`vmkit list`) never loads it.
 */
import type { ImagesApi, VolumesApi } from './types.js';

export const IMAGE_METHODS = ['list', 'notes', 'get', 'cached', 'build'] as const satisfies readonly (keyof ImagesApi)[];
export const VOLUME_METHODS = ['list', 'info', 'create', 'overlay', 'resize', 'delete'] as const satisfies readonly (keyof VolumesApi)[];

/** An object with `methods` that forward to what `load` resolves to. */
export function lazyApi<T extends object>(load: () => Promise<T>, methods: readonly (keyof T & string)[]): T {
  const out: Record<string, unknown> = {};
  for (const m of methods) {
    out[m] = async (...args: unknown[]) => {
      const impl = (await load()) as Record<string, (...a: unknown[]) => Promise<unknown>>;
      return (impl[m] as (...a: unknown[]) => Promise<unknown>).apply(impl, args);
    };
  }
  return out as T;
}
