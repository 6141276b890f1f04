/** `-object iothread,id=<id>` per iothread; disks and the SCSI controller refer to them by id. */

import type { DomainSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';

export function iothreadArgs(spec: DomainSpec): string[] {
  return spec.iothreads.flatMap((id) => ['-object', formatOpts('iothread', [['id', id]])]);
}
