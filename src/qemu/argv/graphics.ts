/**
 * No display (`-display none`), or a VNC server with a standard VGA card. Without a display number QEMU
 * takes the first free display from 0 to 99 (`to=99`, like libvirt's autoport from 5900); QMP `query-vnc`
 * tells which port it got.
 */

import type { DomainSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';
import { virtioTransport } from './machine-family.js';
import { pciPlacer, type PciPlacer } from './pci-plan.js';
import { unsupported } from './unsupported.js';

/** The last display an automatic VNC port may take (port 5999). */
export const VNC_AUTO_LAST_DISPLAY = 99;

export function graphicsArgs(spec: DomainSpec, pci: PciPlacer = pciPlacer(spec)): string[] {
  const g = spec.graphics;
  if (g.type === 'none') return ['-display', 'none'];
  if (virtioTransport(spec.machine.type) === 'device') {
    unsupported(spec, 'graphics.type', `Machine ${spec.machine.type} has no PCI bus for a VGA card: use graphics none and the serial console`, 'vnc');
  }
  // An IPv6 listen address needs brackets so its colons are not read as the display separator.
  const host = g.listen.includes(':') && !g.listen.startsWith('[') ? `[${g.listen}]` : g.listen;
  const vnc = g.display === undefined ? formatOpts(`${host}:0`, [['to', VNC_AUTO_LAST_DISPLAY]]) : formatOpts(`${host}:${g.display}`, []);
  const where = pci.opts(g.videoAddress, 'graphics.video_address');
  // Placed by vmkit: named video0 (libvirt's id) so it can be found; otherwise unchanged.
  return ['-vnc', vnc, '-device', formatOpts('VGA', [['id', where.length > 0 ? 'video0' : undefined], ...where])];
}
