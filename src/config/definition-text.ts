/**
 * The bounded reader every definition goes through (the CLI, the embedded driver, the daemon and its
 * client): the size limit and a file read that cannot block or run past it.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { VmkitError } from '../errors.js';

/** Largest definition accepted, as a file or as text (a definition is a few KiB; this guards against reading a disk image by mistake). */
export const MAX_DEFINITION_BYTES = 4 * 1024 * 1024;

function tooLarge(what: string, size: number | string): VmkitError {
  return new VmkitError('InvalidArgument', `${what} is ${size} bytes, more than the ${MAX_DEFINITION_BYTES} bytes a definition may have; is it the right file?`, {
    details: { limit: MAX_DEFINITION_BYTES },
  });
}

/** Rejects (InvalidArgument) definition text larger than MAX_DEFINITION_BYTES. */
export function checkDefinitionText(text: unknown, what = 'The definition'): string {
  if (typeof text !== 'string') throw new VmkitError('InvalidArgument', `${what} must be a string of vmkit YAML, qemu-launcher YAML or libvirt XML`);
  // UTF-8 is at most 3 bytes per UTF-16 unit: only long texts need counting.
  if (text.length * 3 > MAX_DEFINITION_BYTES) {
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_DEFINITION_BYTES) throw tooLarge(what, bytes);
  }
  return text;
}

/**
 * Reads a definition file with a bound: opened once (non-blocking, so a FIFO cannot hang the read), checked
 * to be a regular file of at most MAX_DEFINITION_BYTES through the open descriptor, and read through it, at
 * most one byte past the limit (a file that grows meanwhile is still refused). Throws VmkitError NotFound,
 * InvalidArgument (not a regular file, too large) or HostError (unreadable).
 */
export async function readDefinitionText(path: string): Promise<string> {
  const file = resolve(path);
  let fh;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'NotFound' : 'HostError';
    throw new VmkitError(code, `Cannot read definition ${file}: ${(e as Error).message}`, { cause: e, details: { path: file } });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      throw new VmkitError('InvalidArgument', `Definition ${file} is not a regular file (it is a ${kindOf(st)}): give the path of a YAML or XML file`, { details: { path: file } });
    }
    if (st.size > MAX_DEFINITION_BYTES) throw tooLarge(`Definition ${file}`, st.size);
    const buf = Buffer.alloc(MAX_DEFINITION_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_DEFINITION_BYTES) throw tooLarge(`Definition ${file}`, `more than ${MAX_DEFINITION_BYTES}`);
    }
    return buf.toString('utf8', 0, length);
  } catch (e) {
    if (e instanceof VmkitError) throw e;
    throw new VmkitError('HostError', `Cannot read definition ${file}: ${(e as Error).message}`, { cause: e, details: { path: file } });
  } finally {
    await fh.close();
  }
}

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'directory';
  if (st.isFIFO()) return 'FIFO';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSocket()) return 'socket';
  return 'special file';
}
