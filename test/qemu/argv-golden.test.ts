import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { buildArgv, describeArgv, parseDescribedArgv } from '../../src/qemu/argv/index.js';
import { ARGV_CASES, argvContext, GOLDEN_ROOT } from './fixtures.js';
import { goldenNames, goldenPath, readGolden, UPDATING } from './golden.js';

describe('argv golden files', () => {
  for (const c of ARGV_CASES) {
    test(`argv() for case ${c.name} matches ${c.name}.args`, () => {
      const argv = buildArgv(c.spec(GOLDEN_ROOT), { ...argvContext(), ...c.context });
      const actual = describeArgv(argv);
      const expected = readGolden(c.name, actual);
      assert.equal(actual, expected, `argv changed for ${c.name}; if intended, run with UPDATE_GOLDEN=1 and review ${goldenPath(c.name)}`);
      assert.deepEqual(parseDescribedArgv(expected), argv);
    });
  }

  test('every golden file belongs to a case', { skip: UPDATING ? 'UPDATE_GOLDEN=1 is rewriting the files' : false }, () => {
    const cases = new Set(ARGV_CASES.map((c) => c.name));
    assert.deepEqual(goldenNames().filter((n) => !cases.has(n)), []);
  });
});
