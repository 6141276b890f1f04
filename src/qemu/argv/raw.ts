/**
 * qemu-launcher definitions: their `qemu:` options are passed through in order (`-<name> [value]`), except
 * `name`, which is merged into vmkit's own `-name` so there is one `-name` with `debug-threads=on`.
 */

import type { DomainSpec, RawOption } from '../../model/domain.js';
import { parseOpts, type OptEntry } from '../escape.js';

export function rawArgs(options: readonly RawOption[]): string[] {
  return options.filter((o) => o.name !== 'name').flatMap((o) => (o.value === undefined ? [`-${o.name}`] : [`-${o.name}`, o.value]));
}

/**
 * The `-name` parts for a qemu-launcher spec. Raw `name` values are read the way QEMU reads them (`my vm` is
 * `guest=my vm`; `guest=a,process=b` keeps both parts; a later key wins), the guest defaults to the spec's
 * name, and `debug-threads=on` is added unless the definition sets it.
 */
export function rawNameOpts(spec: DomainSpec, options: readonly RawOption[]): OptEntry[] {
  const merged = new Map<string, string>();
  for (const o of options) {
    if (o.name !== 'name' || o.value === undefined) continue;
    for (const [key, value] of parseOpts(o.value, 'guest')) merged.set(key, value ?? 'on');
  }
  const guest = merged.get('guest') ?? spec.name;
  merged.delete('guest');
  if (!merged.has('debug-threads')) merged.set('debug-threads', 'on');
  return [['guest', guest], ...merged];
}
