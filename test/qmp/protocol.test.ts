import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeCommand, LineSplitter, parseMessage, QmpParseError } from '../../src/qmp/protocol.js';

test('LineSplitter joins a line split across chunks and skips blank lines', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('{"a":'), []);
  assert.deepEqual(s.push('1}\r'), []);
  assert.deepEqual(s.push('\n\r\n{"b":2}\r\n{"c"'), ['{"a":1}', '{"b":2}']);
  assert.equal(s.pending, '{"c"');
  assert.deepEqual(s.push(':3}\n'), ['{"c":3}']);
  assert.equal(s.pending, '');
});

test('LineSplitter rejects a line longer than its limit', () => {
  const s = new LineSplitter(10);
  assert.throws(() => s.push('x'.repeat(11)), QmpParseError);
});

test('parseMessage classifies greeting, return, error and event', () => {
  const g = parseMessage('{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian"}, "capabilities": ["oob"]}}');
  assert.deepEqual(g, {
    kind: 'greeting',
    greeting: { version: { qemu: { major: 7, minor: 2, micro: 22 }, package: 'Debian' }, capabilities: ['oob'] },
  });
  assert.deepEqual(parseMessage('{"return": {"running": false}, "id": 3}'), { kind: 'return', id: 3, value: { running: false } });
  assert.deepEqual(parseMessage('{"error": {"class": "CommandNotFound", "desc": "nope"}, "id": 4}'), {
    kind: 'error',
    id: 4,
    errorClass: 'CommandNotFound',
    desc: 'nope',
  });
  assert.deepEqual(parseMessage('{"timestamp": {"seconds": 5, "microseconds": 6}, "event": "STOP"}'), {
    kind: 'event',
    event: { event: 'STOP', data: {}, timestamp: { seconds: 5, microseconds: 6 } },
  });
});

test('parseMessage returns unknown for well-formed JSON of another shape and throws on invalid JSON', () => {
  assert.equal(parseMessage('[1,2]').kind, 'unknown');
  assert.equal(parseMessage('{"QMP": {"version": "7"}}').kind, 'unknown');
  assert.equal(parseMessage('{"hello": 1}').kind, 'unknown');
  assert.throws(() => parseMessage('{"return": '), (e: unknown) => e instanceof QmpParseError && /Cannot parse QMP message/.test(e.message));
});

test('encodeCommand writes one line with execute, arguments only when given, and id', () => {
  assert.equal(encodeCommand('query-status', 1), '{"execute":"query-status","id":1}\n');
  assert.equal(encodeCommand('stop', 2, { a: 'x' }), '{"execute":"stop","arguments":{"a":"x"},"id":2}\n');
});
