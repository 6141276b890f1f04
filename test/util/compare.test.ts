import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openEmbedded } from '../../src/index.js';
import { compareNames } from '../../src/util/compare.js';
import { tinyYaml } from '../helpers/guest.js';

describe('compareNames (list order, without loading ICU collation)', () => {
  it('orders by code units: digits, upper case, then lower case, as the C locale does', () => {
    const names = ['web-2', 'Web-1', 'db', 'web-10', '0-first', 'a.b', 'a-b', 'a_b'];
    assert.deepEqual([...names].sort(compareNames), ['0-first', 'Web-1', 'a-b', 'a.b', 'a_b', 'db', 'web-10', 'web-2']);
    assert.equal(compareNames('x', 'x'), 0);
  });

  it('a root lists its domains in that order, however they were defined', async () => {
    const base = await mkdtemp(join(tmpdir(), 'vmkit-test-order-'));
    try {
      const conn = await openEmbedded({ root: join(base, 'root') });
      for (const name of ['web-2', 'Web-1', 'db']) await conn.define({ text: tinyYaml({ name }) });
      await conn.close();
      const again = await openEmbedded({ root: join(base, 'root') });
      assert.deepEqual(again.list().map((d) => d.name), ['Web-1', 'db', 'web-2']);
      await again.close();
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
