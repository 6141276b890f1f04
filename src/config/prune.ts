/** Removes values that failed validation, so resolvers only see well-typed input. Pure. */
import { parentPointer, segments } from './pointer.js';

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

/** `touches` for many look-ups against one list: built once, each look-up costs the depth of the pointer. */
export class InvalidSet {
  readonly #exact = new Set<string>();
  /** Every pointer that some invalid pointer lies inside. */
  readonly #around = new Set<string>();

  constructor(invalid: readonly string[]) {
    for (const p of invalid) {
      this.#exact.add(p);
      for (let q = p; q !== ''; ) {
        q = parentPointer(q);
        if (this.#around.has(q)) break;
        this.#around.add(q);
      }
    }
  }

  /** Same as `touches(invalid, pointer)`. */
  touches(pointer: string): boolean {
    if (this.#exact.size === 0) return false;
    if (pointer === '' || this.#exact.has('') || this.#around.has(pointer)) return true;
    for (let p = pointer; p !== ''; p = parentPointer(p)) if (this.#exact.has(p)) return true;
    return false;
  }
}
