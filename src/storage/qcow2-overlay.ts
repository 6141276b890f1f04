/**
 * An empty qcow2 (version 3) image whose data all comes from a backing file: the header with the backing
 * file's name and format (a "backing file format" header extension: the format is stated, never probed),
 * one refcount table, one refcount block and an all-zero L1 table. It is what `qemu-img create -f qcow2
 * -b BASE -F FMT` writes, made without starting a process: an overlay costs a few small writes instead of a
 * qemu-img run (~50 ms here). Layout, in 64 KiB clusters: 0 header, 1 refcount table, 2 refcount block,
 * 3.. L1 table. Pure.
 */
import { VmkitError } from '../errors.js';

const CLUSTER_BITS = 16;
const CLUSTER = 1 << CLUSTER_BITS;
const HEADER_LENGTH = 112;
const EXT_BACKING_FORMAT = 0xe2792aca;
const MAX_BACKING_NAME = 1023;

export interface Qcow2Layout {
  /** Byte runs to write at their offsets; everything else in the file is zero. */
  readonly writes: readonly { readonly offset: number; readonly bytes: Uint8Array }[];
  /** The file's length. */
  readonly fileSize: number;
}

/** The metadata of an empty overlay of `size` bytes on `backing` (an absolute path) in `backingFormat`. */
export function qcow2Overlay(size: number, backing: string, backingFormat: string): Qcow2Layout {
  if (!Number.isSafeInteger(size) || size < 0) throw new VmkitError('InvalidArgument', `Invalid overlay size ${size}`);
  const name = Buffer.from(backing, 'utf8');
  if (name.length === 0 || name.length > MAX_BACKING_NAME) throw new VmkitError('InvalidArgument', `A backing file name holds 1 to ${MAX_BACKING_NAME} bytes, got ${name.length}`);
  const fmt = Buffer.from(backingFormat, 'ascii');
  const l2Entries = CLUSTER / 8;
  const l1Size = Math.max(1, Math.ceil(size / (CLUSTER * l2Entries)));
  const l1Clusters = Math.ceil((l1Size * 8) / CLUSTER);
  const usedClusters = 3 + l1Clusters;
  if (usedClusters > CLUSTER / 2) throw new VmkitError('InvalidArgument', `Overlay size ${size} is too large`);

  const extLen = 8 + Math.ceil(fmt.length / 8) * 8 + 8; // format extension, end marker
  const nameOffset = HEADER_LENGTH + extLen;
  const header = Buffer.alloc(nameOffset + name.length);
  header.writeUInt32BE(0x514649fb, 0); // "QFI\xfb"
  header.writeUInt32BE(3, 4);
  header.writeBigUInt64BE(BigInt(nameOffset), 8);
  header.writeUInt32BE(name.length, 16);
  header.writeUInt32BE(CLUSTER_BITS, 20);
  header.writeBigUInt64BE(BigInt(size), 24);
  header.writeUInt32BE(0, 32); // no encryption
  header.writeUInt32BE(l1Size, 36);
  header.writeBigUInt64BE(BigInt(3 * CLUSTER), 40); // L1 table
  header.writeBigUInt64BE(BigInt(CLUSTER), 48); // refcount table
  header.writeUInt32BE(1, 56); // refcount table clusters
  // nb_snapshots, snapshots_offset, incompatible/compatible/autoclear features: 0
  header.writeUInt32BE(4, 96); // refcount_order: 16-bit refcounts
  header.writeUInt32BE(HEADER_LENGTH, 100);
  // byte 104: compression type zlib (0), then padding to 112
  header.writeUInt32BE(EXT_BACKING_FORMAT, HEADER_LENGTH);
  header.writeUInt32BE(fmt.length, HEADER_LENGTH + 4);
  fmt.copy(header, HEADER_LENGTH + 8);
  // end of extensions: type 0, length 0 (already zero)
  name.copy(header, nameOffset);

  const refTable = Buffer.alloc(8);
  refTable.writeBigUInt64BE(BigInt(2 * CLUSTER), 0);
  const refBlock = Buffer.alloc(usedClusters * 2);
  for (let i = 0; i < usedClusters; i++) refBlock.writeUInt16BE(1, i * 2);
  return {
    writes: [
      { offset: 0, bytes: header },
      { offset: CLUSTER, bytes: refTable },
      { offset: 2 * CLUSTER, bytes: refBlock },
    ],
    fileSize: usedClusters * CLUSTER,
  };
}
