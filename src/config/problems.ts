/** Collects Problems with file, line:col (from a SourceIndex) and display path. Pure. */
import type { Problem } from '../errors.js';
import { displayPath } from './pointer.js';
import type { SourceIndex, SourcePos } from './source-index.js';

export interface ProblemInit {
  readonly message: string;
  readonly expected?: string;
  readonly found?: string;
  /** Report at the mapping key instead of the value (unknown keys). */
  readonly at?: 'key' | 'value';
}

export class Problems {
  readonly list: Problem[] = [];
  readonly #file: string | undefined;
  readonly #index: SourceIndex | undefined;
  readonly #root: unknown;

  constructor(ctx: { file?: string | undefined; index?: SourceIndex | undefined; root?: unknown }) {
    this.#file = ctx.file;
    this.#index = ctx.index;
    this.#root = ctx.root;
  }

  /** A problem about the value at a JSON pointer. */
  add(pointer: string, init: ProblemInit): void {
    this.addAt(this.#index?.pos(pointer, init.at ?? 'value'), displayPath(pointer, this.#root), init);
  }

  /** A problem at an explicit position (syntax errors) with an explicit display path. */
  addAt(pos: SourcePos | undefined, path: string, init: ProblemInit): void {
    this.list.push({
      ...(this.#file === undefined ? {} : { file: this.#file }),
      ...(pos === undefined ? {} : { line: pos.line, col: pos.col }),
      path,
      message: init.message,
      ...(init.expected === undefined ? {} : { expected: init.expected }),
      ...(init.found === undefined ? {} : { found: init.found }),
    });
  }
}

/** Problems in source order (line, then column); problems without a position keep their order, last. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => {
      const la = a.p.line ?? Infinity;
      const lb = b.p.line ?? Infinity;
      if (la !== lb) return la - lb;
      const ca = a.p.col ?? 0;
      const cb = b.p.col ?? 0;
      return ca !== cb ? ca - cb : a.i - b.i;
    })
    .map((x) => x.p);
}
