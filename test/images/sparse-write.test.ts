import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { isZero, writeSparse } from '../../src/images/sparse-write.js';

test('writeSparse() leaves holes for chunks of zeros, writes the rest at its offset, and ends the file at the stream\'s length', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-sparse-'));
  try {
    const data = Buffer.alloc(8 * 1024 * 1024);
    data.write('HEAD', 0);
    data.write('MIDDLE', 4 * 1024 * 1024 + 17);
    const chunks: Buffer[] = [];
    for (let at = 0; at < data.length; at += 256 * 1024) chunks.push(data.subarray(at, at + 256 * 1024));
    const path = join(dir, 'out');
    const fh = await open(path, 'wx');
    const n = await writeSparse(Readable.from(chunks), fh.fd, path);
    await fh.close();
    assert.equal(n, data.length);
    assert.deepEqual(await readFile(path), data, 'reads back the same, trailing zeros included');
    const st = await stat(path);
    assert.equal(st.size, data.length);
    assert.ok(st.blocks * 512 <= 1024 * 1024, `only the two written chunks take room (${st.blocks * 512} bytes allocated)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('isZero() looks at every byte, also past its zero page', () => {
  assert.equal(isZero(Buffer.alloc(0)), true);
  assert.equal(isZero(Buffer.alloc(600 * 1024)), true);
  const b = Buffer.alloc(600 * 1024);
  b[600 * 1024 - 1] = 1;
  assert.equal(isZero(b), false);
});
