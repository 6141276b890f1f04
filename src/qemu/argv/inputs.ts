/**
 * USB input devices on their USB controller's bus (`usb.0` for controller 0, as libvirt names it), with
 * libvirt's ids (`input0`, ...): `usb-tablet`, `usb-mouse`, `usb-kbd`, at the port the spec gives (else QEMU
 * takes a free one). The PS/2 mouse and keyboard of a PC need no option.
 */

import type { DomainSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';
import { usbControllerId } from './controllers.js';

const DRIVER = { tablet: 'usb-tablet', mouse: 'usb-mouse', keyboard: 'usb-kbd' } as const;

export function inputArgs(spec: DomainSpec): string[] {
  return (spec.inputs ?? []).flatMap((d, i) => [
    '-device',
    formatOpts(DRIVER[d.type], [
      ['id', `input${i}`],
      ['bus', `${usbControllerId(d.address?.bus ?? 0)}.0`],
      ['port', d.address?.port],
    ]),
  ]);
}
