/**
 * A FAT12/FAT16 file system image holding a few files in its root directory, with a volume label: what a
 * cloud-init NoCloud seed needs (label `cidata`, files `user-data`, `meta-data`, `network-config`). Written
 * here because nothing on npm writes FAT images (the packages there read them, or wrap mkfs.fat/mtools), and
 * the format is small: a boot sector with the BIOS parameter block, two copies of the allocation table, the
 * root directory (long file names as VFAT entries, so lower-case names with dashes come through), then the
 * files' clusters. The FAT type follows from the cluster count, as every driver decides it. Pure.
 */
import { VmkitError } from '../errors.js';

export interface FatFile {
  /** A root-directory file name (no `/`, at most 255 characters). */
  readonly name: string;
  readonly data: Uint8Array;
}

export interface FatOptions {
  /** Volume label, at most 11 characters of A-Z 0-9 space and `_-` (upper-cased). */
  readonly label: string;
  /** Serial number (default: from the contents). */
  readonly volumeId?: number;
  /** File times (default 2000-01-01: the image is then a function of its contents). */
  readonly time?: Date;
}

const SECTOR = 512;
const ROOT_ENTRIES = 512;
const RESERVED = 1;
const FATS = 2;
const MAX_FAT16_CLUSTERS = 65524;

/** Builds the image (see the module comment). Throws InvalidArgument for names or labels FAT cannot hold. */
export function fatImage(files: readonly FatFile[], opts: FatOptions): Uint8Array {
  const label = opts.label.toUpperCase();
  if (!/^[A-Z0-9_ -]{1,11}$/.test(label)) throw new VmkitError('InvalidArgument', `Invalid FAT volume label ${JSON.stringify(opts.label)}: 1 to 11 characters of A-Z, 0-9, space, _ and -`);
  const seen = new Set<string>();
  for (const f of files) {
    if (f.name === '' || f.name.length > 255 || /[/\\:*?"<>|\u0000-\u001f]/.test(f.name) || f.name === '.' || f.name === '..') {
      throw new VmkitError('InvalidArgument', `Invalid file name for a FAT image: ${JSON.stringify(f.name)}`);
    }
    if (seen.has(f.name.toLowerCase())) throw new VmkitError('InvalidArgument', `Two files named ${JSON.stringify(f.name)} (FAT names are case-insensitive)`);
    seen.add(f.name.toLowerCase());
  }
  const dirEntries = 1 + files.reduce((n, f) => n + 1 + Math.ceil(f.name.length / 13), 0);
  if (dirEntries > ROOT_ENTRIES) throw new VmkitError('InvalidArgument', `Too many or too long file names for one FAT root directory (${dirEntries} of ${ROOT_ENTRIES} entries)`);

  // Geometry: the smallest cluster that keeps the count within FAT16, with some room to spare.
  const bytes = files.map((f) => f.data.length);
  let spc = 1;
  let clusters = 0;
  for (;;) {
    const cs = spc * SECTOR;
    clusters = Math.max(64, bytes.reduce((n, b) => n + Math.ceil(b / cs), 0) + 16);
    if (clusters <= MAX_FAT16_CLUSTERS) break;
    if (spc >= 128) throw new VmkitError('InvalidArgument', 'The files are too large for a FAT16 seed image');
    spc *= 2;
  }
  const fat12 = clusters < 4085;
  const fatBytes = fat12 ? Math.ceil(((clusters + 2) * 3) / 2) : (clusters + 2) * 2;
  const fatSectors = Math.ceil(fatBytes / SECTOR);
  const rootSectors = (ROOT_ENTRIES * 32) / SECTOR;
  const dataStart = RESERVED + FATS * fatSectors + rootSectors;
  const totalSectors = dataStart + clusters * spc;
  const img = new Uint8Array(totalSectors * SECTOR);
  const view = new DataView(img.buffer);
  const volumeId = opts.volumeId ?? checksum32(files);

  // Boot sector and BIOS parameter block.
  img.set([0xeb, 0x3c, 0x90], 0);
  ascii(img, 3, 'VMKIT   ', 8);
  view.setUint16(11, SECTOR, true);
  img[13] = spc;
  view.setUint16(14, RESERVED, true);
  img[16] = FATS;
  view.setUint16(17, ROOT_ENTRIES, true);
  if (totalSectors < 65536) view.setUint16(19, totalSectors, true);
  else view.setUint32(32, totalSectors, true);
  img[21] = 0xf8;
  view.setUint16(22, fatSectors, true);
  view.setUint16(24, 32, true);
  view.setUint16(26, 64, true);
  img[36] = 0x80;
  img[38] = 0x29;
  view.setUint32(39, volumeId >>> 0, true);
  ascii(img, 43, label, 11);
  ascii(img, 54, fat12 ? 'FAT12' : 'FAT16', 8);
  img[510] = 0x55;
  img[511] = 0xaa;

  // Allocation table: entries 0 and 1 reserved, then each file's chain.
  const fat = new Uint8Array(fatSectors * SECTOR);
  const setFat = (n: number, v: number): void => {
    if (fat12) {
      const off = Math.floor((n * 3) / 2);
      if (n % 2 === 0) {
        fat[off] = v & 0xff;
        fat[off + 1] = ((fat[off + 1] as number) & 0xf0) | ((v >> 8) & 0x0f);
      } else {
        fat[off] = ((fat[off] as number) & 0x0f) | ((v << 4) & 0xf0);
        fat[off + 1] = (v >> 4) & 0xff;
      }
    } else {
      fat[n * 2] = v & 0xff;
      fat[n * 2 + 1] = (v >> 8) & 0xff;
    }
  };
  const eoc = fat12 ? 0xfff : 0xffff;
  setFat(0, fat12 ? 0xff8 : 0xfff8);
  setFat(1, eoc);

  // Root directory and data.
  const root = RESERVED * SECTOR + FATS * fatSectors * SECTOR;
  let slot = 0;
  const entry = (): number => root + 32 * slot++;
  const labelAt = entry();
  ascii(img, labelAt, label, 11);
  img[labelAt + 11] = 0x08;
  const { date, time } = dosTime(opts.time ?? new Date(Date.UTC(2000, 0, 1)));
  let next = 2;
  files.forEach((f, i) => {
    const short = shortName(f.name, i);
    const sum = shortNameChecksum(short);
    const units = [...f.name].flatMap((c) => {
      const code = c.codePointAt(0) as number;
      return code > 0xffff ? [0xd800 + ((code - 0x10000) >> 10), 0xdc00 + ((code - 0x10000) & 0x3ff)] : [code];
    });
    const parts = Math.ceil(units.length / 13);
    for (let p = parts; p >= 1; p--) {
      const at = entry();
      img[at] = p | (p === parts ? 0x40 : 0);
      img[at + 11] = 0x0f;
      img[at + 13] = sum;
      const chars = Array.from({ length: 13 }, (_, k) => {
        const idx = (p - 1) * 13 + k;
        return idx < units.length ? (units[idx] as number) : idx === units.length ? 0x0000 : 0xffff;
      });
      const offsets = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
      chars.forEach((c, k) => view.setUint16(at + (offsets[k] as number), c, true));
    }
    const at = entry();
    img.set(short, at);
    img[at + 11] = 0x20;
    view.setUint16(at + 14, time, true);
    view.setUint16(at + 16, date, true);
    view.setUint16(at + 18, date, true);
    view.setUint16(at + 22, time, true);
    view.setUint16(at + 24, date, true);
    view.setUint32(at + 28, f.data.length, true);
    if (f.data.length === 0) return;
    const n = Math.ceil(f.data.length / (spc * SECTOR));
    view.setUint16(at + 26, next, true);
    img.set(f.data, (dataStart + (next - 2) * spc) * SECTOR);
    for (let c = 0; c < n; c++) setFat(next + c, c === n - 1 ? eoc : next + c + 1);
    next += n;
  });
  for (let k = 0; k < FATS; k++) img.set(fat, (RESERVED + k * fatSectors) * SECTOR);
  return img;
}

function ascii(buf: Uint8Array, at: number, text: string, width: number): void {
  for (let i = 0; i < width; i++) buf[at + i] = i < text.length ? text.charCodeAt(i) : 0x20;
}

/** A unique 8.3 name for the `i`-th file (the long name is what everyone reads). */
function shortName(name: string, i: number): Uint8Array {
  const basis = name.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 5) || 'FILE';
  const tail = `~${i + 1}`;
  const base = `${basis.slice(0, 8 - tail.length)}${tail}`;
  const out = new Uint8Array(11).fill(0x20);
  for (let k = 0; k < base.length; k++) out[k] = base.charCodeAt(k);
  return out;
}

function shortNameChecksum(short: Uint8Array): number {
  let sum = 0;
  for (const b of short) sum = (((sum & 1) << 7) + (sum >> 1) + b) & 0xff;
  return sum;
}

function dosTime(d: Date): { date: number; time: number } {
  const year = Math.min(Math.max(d.getUTCFullYear(), 1980), 2107);
  return {
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
  };
}

function checksum32(files: readonly FatFile[]): number {
  let h = 0x811c9dc5;
  for (const f of files) for (const b of [...Buffer.from(f.name), ...f.data]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}
