/** Removes values that failed validation, so resolvers only see well-typed input. Pure. */
import { segments } from './pointer.js';

/** A deep copy of `value` without the values at `pointers` (array slots become undefined, keeping indices). */
export function pruneInvalid(value: unknown, pointers: readonly string[]): unknown {
  if (pointers.includes('')) return undefined;
  const copy = structuredClone(value);
  for (const pointer of pointers) {
    const segs = segments(pointer);
    const last = segs.pop();
    let cur: unknown = copy;
    for (const s of segs) {
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[s] : undefined;
    }
    if (last === undefined || cur === null || typeof cur !== 'object') continue;
    if (Array.isArray(cur)) cur[Number(last)] = undefined;
    else delete (cur as Record<string, unknown>)[last];
  }
  return copy;
}

/** True when `pointer` is, contains, or lies inside one of `invalid`. */
export function touches(invalid: readonly string[], pointer: string): boolean {
  return invalid.some((p) => p === pointer || p.startsWith(`${pointer}/`) || pointer.startsWith(`${p}/`) || pointer === '' || p === '');
}
