import assert from 'node:assert/strict';
import { test } from 'node:test';
import { problemLines } from '../../src/cli/output.js';

test('problemLines() prints Problems as file:line:col: path: message, and any other shape as it is, never `undefined`', () => {
  const lines = problemLines({
    problems: [
      { file: 'a.yaml', line: 5, col: 31, path: 'nics[0].network', message: 'There is no libvirt network n', found: '"n"' },
      { path: '', message: 'no path, no file' },
      { message: 'a message only' },
      'nics[1]: a bare string (an older daemon)',
      { path: 'x' },
      42,
      null,
    ],
  });
  assert.deepEqual(lines, [
    'a.yaml:5:31: nics[0].network: There is no libvirt network n (found "n")',
    'no path, no file',
    'a message only',
    'nics[1]: a bare string (an older daemon)',
    '{"path":"x"}',
    '42',
    'null',
  ]);
  assert.ok(lines.every((l) => !l.includes('undefined')));
  assert.deepEqual(problemLines({ problems: 'not a list' }), []);
  assert.deepEqual(problemLines({}), []);
});
