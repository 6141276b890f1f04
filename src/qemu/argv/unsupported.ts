import { ConfigError } from '../../errors.js';
import type { DomainSpec } from '../../model/domain.js';

/**
 * Throws a ConfigError for a spec the validator let through but QEMU cannot express (e.g. an IDE disk on
 * microvm). `path` is the field path, like `disks[2].bus`.
 */
export function unsupported(spec: DomainSpec, path: string, message: string, found?: string): never {
  throw new ConfigError([
    {
      ...(spec.source.file === undefined ? {} : { file: spec.source.file }),
      path,
      message,
      ...(found === undefined ? {} : { found }),
    },
  ]);
}
