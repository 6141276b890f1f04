import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateDefinition } from '../../src/config/index.js';

const head = 'launcher:\n  binary: qemu-system-x86_64\nqemu:\n';
const check = (qemu: string) => validateDefinition(`${head}${qemu}`, { file: 'vm.yml', baseDir: '/tmp' });

describe('qemu-launcher disks never let QEMU guess the format', () => {
  it('-drive without format= is a problem at its value, in every spelling', () => {
    for (const item of ['- drive: file=/a.img,if=virtio', '- drive: [ file: /a.img, if: virtio ]', '- drive: { file: /a.img }']) {
      const problems = check(`${item}\n`);
      assert.equal(problems.length, 1, item);
      assert.equal(problems[0]?.path, 'qemu[0].drive');
      assert.equal(problems[0]?.line, 4);
      assert.match(problems[0]?.message ?? '', /format/);
    }
  });
  it('-drive with format= is fine, and a comma in the path does not hide a format', () => {
    assert.deepEqual(check('- drive: [ file: /a.img, format: raw ]\n'), []);
    assert.equal(check('- drive: [ file: "/a,format=raw" ]\n').length, 1);
  });
  it('-hda and -cdrom are refused with the -drive spelling to use instead', () => {
    const [p] = check('- hda: /a.img\n');
    assert.match(p?.message ?? '', /file=\/a\.img,format=raw/);
    assert.equal(check('- cdrom: /b.iso\n').length, 1);
  });
});

describe('native qemu_args never let QEMU guess a disk format either', () => {
  it('flags -drive without format= and -hdb, naming the argument index', () => {
    const problems = validateDefinition('name: x\nqemu_args: ["-drive", "file=/a.img", "-hdb", "/b.img", "-drive", "file=/c,format=raw"]\n', { file: 'x.yaml', baseDir: '/tmp' });
    assert.deepEqual(problems.map((p) => p.path), ['qemu_args[0]', 'qemu_args[2]']);
  });
});
