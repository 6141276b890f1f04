/** No display (`-display none`), or a VNC server with a standard VGA card. */

import type { DomainSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';
import { virtioTransport } from './machine-family.js';
import { unsupported } from './unsupported.js';

export function graphicsArgs(spec: DomainSpec): string[] {
  const g = spec.graphics;
  if (g.type === 'none') return ['-display', 'none'];
  if (virtioTransport(spec.machine.type) === 'device') {
    unsupported(spec, 'graphics.type', `Machine ${spec.machine.type} has no PCI bus for a VGA card: use graphics none and the serial console`, 'vnc');
  }
  // An IPv6 listen address needs brackets so its colons are not read as the display separator.
  const host = g.listen.includes(':') && !g.listen.startsWith('[') ? `[${g.listen}]` : g.listen;
  return ['-vnc', formatOpts(`${host}:${g.display}`, []), '-device', 'VGA'];
}
