/** Collects Problems with file, line:col (from a SourceIndex) and display path. Pure. */
import type { Problem } from '../errors.js';
import { MAX_KEPT_PROBLEMS, MAX_PROBLEMS } from './limits.js';
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

  /** True when the list holds MAX_KEPT_PROBLEMS: further problems are only counted. */
  get full(): boolean {
    return listFull(this.list);
  }

  /** A problem about the value at a JSON pointer. */
  add(pointer: string, init: ProblemInit): void {
    if (this.full) {
      countOmitted(this.list);
      return;
    }
    this.addAt(this.#index?.pos(pointer, init.at ?? 'value'), displayPath(pointer, this.#root), init);
  }

  /** A problem at an explicit position (syntax errors) with an explicit display path. */
  addAt(pos: SourcePos | undefined, path: string, init: ProblemInit): void {
    if (this.full) {
      countOmitted(this.list);
      return;
    }
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

/** The placeholder entries that count problems not kept (see countOmitted), with their counts. */
const omitted = new WeakMap<Problem, { count: number }>();

/** True when `list` holds MAX_KEPT_PROBLEMS problems (or more): further ones are only counted. */
export function listFull(list: readonly Problem[]): boolean {
  return list.length >= MAX_KEPT_PROBLEMS;
}

/** Counts one more problem that was not kept, in a placeholder entry at the end of `list` (see limitProblems). */
export function countOmitted(list: Problem[]): void {
  const last = list[list.length - 1];
  const record = last === undefined ? undefined : omitted.get(last);
  if (record !== undefined) {
    record.count++;
    return;
  }
  const placeholder: Problem = { path: '', message: 'problems not kept' };
  omitted.set(placeholder, { count: 1 });
  list.push(placeholder);
}

/**
 * The problems to report: in source order, at most MAX_PROBLEMS of them, then one problem that says how
 * many more there are (counting those that were not kept while reading) and where the first of them is.
 */
export function limitProblems(problems: readonly Problem[]): Problem[] {
  let notKept = 0;
  const kept: Problem[] = [];
  for (const p of problems) {
    const record = omitted.get(p);
    if (record === undefined) kept.push(p);
    else notKept += record.count;
  }
  const sorted = sortProblems(kept);
  if (sorted.length <= MAX_PROBLEMS && notKept === 0) return sorted;
  const listed = sorted.slice(0, MAX_PROBLEMS);
  const more = sorted.length - listed.length + notKept;
  const at = sorted[MAX_PROBLEMS] ?? sorted[sorted.length - 1];
  listed.push({
    ...(at?.file === undefined ? {} : { file: at.file }),
    ...(at?.line === undefined ? {} : { line: at.line, col: at.col ?? 1 }),
    path: '',
    message: `${more} more problem${more === 1 ? '' : 's'} not listed (at most ${MAX_PROBLEMS} are listed, the first from here on); fix these and check again`,
  });
  return listed;
}
