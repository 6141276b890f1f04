/** What every definition format parser takes and returns. */
import type { Problem } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';

export interface FormatInput {
  readonly text: string;
  /** Source file, for problem locations and DomainSpec.source.file. */
  readonly file?: string | undefined;
  /** Directory relative paths in the definition are resolved against. */
  readonly baseDir: string;
}

export interface FormatResult {
  /** The resolved spec (not yet frozen); meaningful only when `problems` is empty. */
  readonly spec?: DomainSpec;
  readonly problems: readonly Problem[];
}
