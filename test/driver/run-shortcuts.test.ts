/**
 * What `vmkit run` skips to start sooner, and why each skip is safe: a spec the parser of this process made
 * from the very text it is defined with is not checked a second time (any other spec still is), and a
 * private root (`unshared`) takes no lock while a shared one does.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDefinition, parsedFromText } from '../../src/config/parse-definition.js';
import { openEmbedded, VmkitError } from '../../src/index.js';

const TEXT = 'name: quick\nmachine:\n  type: q35\ncpu:\n  vcpus: 1\nmemory: 64M\n';

describe('vmkit run start-up shortcuts', () => {
  it('parsedFromText() holds only for the very object parseDefinition() returned for that text', () => {
    const spec = parseDefinition(TEXT, { baseDir: '/' });
    assert.equal(parsedFromText(spec, TEXT), true);
    assert.equal(parsedFromText(spec, `${TEXT}\n`), false, 'another text');
    assert.equal(parsedFromText(structuredClone(spec), TEXT), false, 'an equal copy');
    assert.equal(parsedFromText({ ...spec, memoryMiB: 1 }, TEXT), false, 'a changed copy');
    assert.ok(Object.isFrozen(spec) && Object.isFrozen(spec.cpu), 'the trusted spec cannot be changed');
  });

  it('define({spec, source}) stores the source text for a parsed spec, and still checks a spec it did not parse', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vmkit-test-shortcut-'));
    const conn = await openEmbedded({ root, noSync: true, unshared: true });
    try {
      const spec = parseDefinition(TEXT, { baseDir: '/' });
      const d = await conn.define({ spec, source: { text: TEXT } });
      assert.equal((await d.definition()).text, TEXT);
      // A copy with a value its definition would never give is refused, source text or not.
      const forged = { ...structuredClone(spec), name: 'forged', cpu: { ...spec.cpu, vcpus: 0 } };
      await assert.rejects(conn.define({ spec: forged, source: { text: TEXT.replace('quick', 'forged') } }), (e: unknown) => e instanceof VmkitError);
      assert.deepEqual(conn.list().map((x) => x.name), ['quick']);
    } finally {
      await conn.close();
      await rm(root, { recursive: true, force: true });
    }
  });

  it('an unshared root takes no lock; a shared one holds <root>/lock', async () => {
    const base = await mkdtemp(join(tmpdir(), 'vmkit-test-unshared-'));
    try {
      const a = await openEmbedded({ root: join(base, 'a'), noSync: true, unshared: true });
      assert.ok(!(await readdir(join(base, 'a'))).includes('lock'));
      await a.close();
      const b = await openEmbedded({ root: join(base, 'b'), noSync: true });
      assert.ok((await readdir(join(base, 'b'))).includes('lock'));
      await assert.rejects(openEmbedded({ root: join(base, 'b'), noSync: true }), (e: unknown) => e instanceof VmkitError);
      await b.close();
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
