/** Disks whose image format QEMU would guess: vmkit refuses them, in every format's raw options. Pure. */
import { parseOpts } from '../qemu/escape.js';

/** Options that give QEMU a disk image without a format: QEMU would probe it. */
const GUESSING_DISK_OPTIONS = new Set(['hda', 'hdb', 'hdc', 'hdd', 'fda', 'fdb', 'cdrom', 'sd', 'mtdblock', 'pflash']);
const NEVER_GUESS =
  'vmkit never lets QEMU guess an image format (probing lets a guest turn a raw image into a qcow2 that points at host files)';

/** A disk option that would make QEMU probe the image format, as a problem; undefined when it is explicit. */
export function guessedFormatProblem(name: string, value: string): { message: string; expected: string; found: string } | undefined {
  if (GUESSING_DISK_OPTIONS.has(name)) {
    return {
      message: `-${name} has no way to name the image format and ${NEVER_GUESS}; use -drive with an explicit format instead (\`file=${value},format=raw\`)`,
      expected: '-drive file=...,format=...',
      found: `-${name}`,
    };
  }
  if (name !== 'drive') return undefined;
  const keys = new Map(parseOpts(value, 'file'));
  if (keys.has('format') || (!keys.has('file') && !keys.has('filename'))) return undefined;
  return { message: `-drive has no \`format=\` and ${NEVER_GUESS}; add \`format=raw\` (or qcow2, ...)`, expected: 'format=<raw|qcow2|...>', found: value };
}

