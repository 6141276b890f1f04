import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sendFile } from '../../src/vmops/stream-file.js';

/** A listener standing in for QEMU's incoming migration socket: reads `take` bytes, then drops the connection. */
async function peer(socketPath: string, take: number): Promise<{ received: () => number; close: () => void }> {
  let received = 0;
  const server = net.createServer((s) => {
    s.on('data', (c: Buffer) => {
      received += c.length;
      if (received >= take) s.destroy();
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { received: () => received, close: () => server.close() };
}

describe('sendFile (a saved state written into QEMU\'s incoming socket)', () => {
  let dir: string;
  const size = 4 * 1024 * 1024;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-stream-file-'));
    await writeFile(join(dir, 'state'), Buffer.alloc(size, 7));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('completes when the peer closes the moment it has read everything (QEMU does; it raced with our own finish)', async () => {
    // The race lost about 1 time in 70 before the fix: 150 rounds make a regression all but certain to show.
    for (let i = 0; i < 150; i++) {
      const sock = join(dir, `in-${i}.sock`);
      const p = await peer(sock, size);
      try {
        assert.equal(await sendFile(sock, join(dir, 'state')), size);
        assert.equal(p.received(), size, `round ${i}: the peer received every byte`);
      } finally {
        p.close();
      }
    }
  });

  it('fails when the peer drops the connection before the whole file was sent', async () => {
    const sock = join(dir, 'short.sock');
    const p = await peer(sock, 64 * 1024);
    try {
      await assert.rejects(sendFile(sock, join(dir, 'state')), (e: Error) => /EPIPE|ECONNRESET|Premature close/.test(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`));
      assert.ok(p.received() < size, `the peer read ${p.received()} of ${size} bytes`);
    } finally {
      p.close();
    }
  });
});
