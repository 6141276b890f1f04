/**
 * An image's virtual size without starting qemu-img, for the formats vmkit makes: raw (the file's size) and
 * qcow2 (the header's size field). Others ask qemu-img.
 */
import { open, stat } from 'node:fs/promises';
import { VmkitError } from '../errors.js';
import { imageInfo } from './qemu-img.js';

export async function virtualSize(path: string, format: string): Promise<number> {
  if (format === 'raw') return (await stat(path)).size;
  if (format !== 'qcow2') return (await imageInfo(path, format)).virtualSize;
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(32);
    const { bytesRead } = await fh.read(head, 0, 32, 0);
    if (bytesRead < 32 || head.readUInt32BE(0) !== 0x514649fb) throw new VmkitError('HostError', `${path} is not a qcow2 image (no qcow2 header), though it is used as one`, { details: { path } });
    return Number(head.readBigUInt64BE(24));
  } finally {
    await fh.close();
  }
}
