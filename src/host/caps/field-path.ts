/** Field paths of problems: JSON pointers, their display form (`disks[0].bus`), and positions. Pure. */
import { escapeSegment, segments } from '../../config/pointer.js';

export interface FieldPosition {
  readonly file?: string;
  readonly line: number;
  readonly col: number;
  /**
   * Where that is in the file's own terms, when it differs from the field's native path: the XML path of a
   * libvirt domain (`/domain/os/type/@machine`), the `qemu:` item of a qemu-launcher file (`qemu[1]`).
   */
  readonly path?: string;
}

/** Maps a JSON pointer (`/machine/type`) to the position of that value, or of its closest written ancestor. */
export type FieldLocator = (pointer: string) => FieldPosition | undefined;

/** `/disks/0/bus` -> `disks[0].bus` (the display form problems use). */
export function displayPath(pointer: string): string {
  let out = '';
  for (const seg of segments(pointer)) {
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else out += /^[A-Za-z0-9_-]+$/.test(seg) ? `${out === '' ? '' : '.'}${seg}` : `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** `disks[0].bus` -> `/disks/0/bus`; the inverse of displayPath for plain keys. */
export function pointerOf(path: string): string {
  let out = '';
  const re = /\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\.?([^.[\]]+)/g;
  for (const m of path.matchAll(re)) {
    const seg = m[1] ?? (m[2] === undefined ? m[3] : (JSON.parse(`"${m[2]}"`) as string)) ?? '';
    out += `/${escapeSegment(seg)}`;
  }
  return out;
}
