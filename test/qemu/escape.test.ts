import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { VmkitError } from '../../src/errors.js';
import { escapeOptValue, formatOpts, parseOpts } from '../../src/qemu/escape.js';

describe('escapeOptValue', () => {
  test('escapeOptValue() doubles every comma and leaves everything else alone', () => {
    assert.equal(escapeOptValue('a,file=/etc/shadow'), 'a,,file=/etc/shadow');
    assert.equal(escapeOptValue(',,'), ',,,,');
    assert.equal(escapeOptValue(`x= "q" 'r'\n`), `x= "q" 'r'\n`);
  });
});

describe('formatOpts', () => {
  test('formatOpts() joins head and entries, skipping undefined and writing booleans as on/off', () => {
    const s = formatOpts('virtio-blk-pci', [
      ['drive', 'disk0-fmt'],
      ['iothread', undefined],
      ['bootindex', 1],
      ['share', false],
      ['read-only', true],
    ]);
    assert.equal(s, 'virtio-blk-pci,drive=disk0-fmt,bootindex=1,share=off,read-only=on');
  });

  test('formatOpts() escapes values and the head', () => {
    assert.equal(formatOpts('we,ird', [['filename', 'a,file=/etc/shadow']]), 'we,,ird,filename=a,,file=/etc/shadow');
  });

  test('formatOpts() without a head starts with the first key', () => {
    assert.equal(formatOpts(undefined, [['guest', 'my vm'], ['debug-threads', true]]), 'guest=my vm,debug-threads=on');
  });

  test('formatOpts() keeps repeated keys in order', () => {
    assert.equal(formatOpts('node', [['cpus', '0-1'], ['cpus', '4']]), 'node,cpus=0-1,cpus=4');
  });

  test('formatOpts() rejects a head QEMU would read as key=value', () => {
    assert.throws(() => formatOpts('type=q35', []), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument');
    assert.throws(() => formatOpts('', []), VmkitError);
  });

  test('formatOpts() rejects NUL characters and non-integer numbers', () => {
    assert.throws(() => formatOpts('x', [['path', 'a\0b']]), VmkitError);
    assert.throws(() => formatOpts('x', [['size', 1.5]]), VmkitError);
  });

  test('formatOpts() rejects keys that are not plain names', () => {
    assert.throws(() => formatOpts('x', [['a=b', 'c']]), (e: unknown) => e instanceof VmkitError && e.code === 'Internal');
  });

  test('parseOpts() reads back what formatOpts() writes', () => {
    const values = ['a,file=/etc/shadow', ',', '', '= =', 'x,,y', `q"'\n`];
    for (const v of values) {
      assert.deepEqual(parseOpts(formatOpts(undefined, [['k', v], ['z', 'end']]), 'head'), [
        ['k', v],
        ['z', 'end'],
      ]);
    }
  });
});

describe('parseOpts', () => {
  test('parseOpts() treats a first part without "=" as the implied key', () => {
    assert.deepEqual(parseOpts('my vm', 'guest'), [['guest', 'my vm']]);
    assert.deepEqual(parseOpts('web,process=qemu-web', 'guest'), [
      ['guest', 'web'],
      ['process', 'qemu-web'],
    ]);
  });

  test('parseOpts() reads a doubled comma as a literal comma', () => {
    assert.deepEqual(parseOpts('a,,b,c=d,,e', 'guest'), [
      ['guest', 'a,b'],
      ['c', 'd,e'],
    ]);
  });

  test('parseOpts() returns flags with an undefined value and ignores a trailing comma', () => {
    assert.deepEqual(parseOpts('guest=x,debug-threads,', 'guest'), [
      ['guest', 'x'],
      ['debug-threads', undefined],
    ]);
    assert.deepEqual(parseOpts('', 'guest'), []);
  });
});
