/**
 * Where each value of a parsed document sits in its source text: JSON pointer -> key and value offsets,
 * turned into 1-based line:col on demand. Pure.
 */
import type { LineCounter, Node } from 'yaml';
import { parentPointer } from './pointer.js';

export interface SourcePos {
  readonly line: number;
  readonly col: number;
}

export interface SourceEntry {
  /** Offset range of the mapping key, for values that are mapping entries. */
  readonly key?: readonly [number, number];
  /** Offset range of the value itself. */
  readonly value?: readonly [number, number];
  /** The YAML node of the value, for formats that read the syntax tree (qemu-launcher options). */
  readonly node?: Node | null;
}

export class SourceIndex {
  readonly #lines: LineCounter;
  readonly #entries = new Map<string, SourceEntry>();

  constructor(lines: LineCounter) {
    this.#lines = lines;
  }

  set(pointer: string, entry: SourceEntry): void {
    this.#entries.set(pointer, entry);
  }

  entry(pointer: string): SourceEntry | undefined {
    return this.#entries.get(pointer);
  }

  offsetPos(offset: number): SourcePos {
    const p = this.#lines.linePos(offset);
    return { line: p.line, col: p.col };
  }

  /**
   * Position of the value (or of its key with `at: 'key'`) at `pointer`; falls back to the closest ancestor
   * that exists in the source (a missing key is reported at its parent).
   */
  pos(pointer: string, at: 'key' | 'value' = 'value'): SourcePos | undefined {
    let p = pointer;
    for (;;) {
      const e = this.#entries.get(p);
      const range = e === undefined ? undefined : at === 'key' ? (e.key ?? e.value) : (e.value ?? e.key);
      if (range !== undefined) return this.offsetPos(range[0]);
      if (p === '') return undefined;
      p = parentPointer(p);
    }
  }
}
