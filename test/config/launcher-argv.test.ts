import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDefinition } from '../../src/config/index.js';
import { buildArgv, describeArgv } from '../../src/qemu/argv/index.js';
import { runDirPaths } from '../../src/process/state-dir.js';
import { REPO } from '../helpers/guest.js';

// The qemu-launcher README's example (with the topology its command line has: threads=2) in all three
// spellings its README documents, plus a fourth with every mixed form. All must give one argv.
const LAUNCHER = 'launcher:\n  binary: qemu-system-x86_64\n';
const SPELLINGS: Record<string, string> = {
  arrays: `${LAUNCHER}qemu:
- name: my virtual machine
- machine: [ pc, accel: kvm ]
- nographic
- monitor: [ unix:/run/my-vm.sock ]
- cpu: host
- smp: [ 2, sockets: 1, cores: 1, threads: 2 ]
- m: 2G
- device: [ ide-hd, bus: ide.0, drive: drive0 ]
- drive: [ file: /var/storage/my-vm.qcow, if: none, id: drive0, format: qcow, readonly ]
`,
  strings: `${LAUNCHER}qemu:
- name: my virtual machine
- machine: pc,accel=kvm
- nographic
- monitor: unix:/run/my-vm.sock
- cpu: host
- smp: 2,sockets=1,cores=1,threads=2
- m: 2G
- device: ide-hd,bus=ide.0,drive=drive0
- drive: file=/var/storage/my-vm.qcow,if=none,id=drive0,format=qcow,readonly
`,
  mixed: `${LAUNCHER}qemu:
- name: [ my virtual machine ] # Array with one element
- machine:
  # Array of strings written in the more verbose way
  - pc,
  - accel=kvm
# Simple flag parameter
- nographic
- monitor:
  - unix:/run/my-vm.sock
# This is simila to the name key, but using a different YAML syntax
- cpu:
  - host
- smp:
  # Simple integer
  - 2
  # Explicit hash
  - { sockets: 1 }
  # Implicit hash
  - cores: 1
  - { threads: 2 }
- m: 2G
- device: ide-hd,bus=ide.0,drive=drive0
- drive: file=/var/storage/my-vm.qcow,if=none,id=drive0,format=qcow,readonly
`,
};

const GOLDEN = join(REPO, 'test/golden/launcher/readme.args');

function argvOf(text: string): string {
  const spec = parseDefinition(text, { file: 'vm.yml', baseDir: '/etc/qemu-launcher' });
  return `${describeArgv(buildArgv(spec, { paths: runDirPaths('/run/vmkit/vm'), accel: 'kvm' }))}\n`;
}

describe('qemu-launcher spellings → argv (golden)', () => {
  const outputs = Object.fromEntries(Object.entries(SPELLINGS).map(([k, v]) => [k, argvOf(v)]));

  it('the arrays, strings and mixed spellings give the same argv', () => {
    assert.equal(outputs.strings, outputs.arrays);
    assert.equal(outputs.mixed, outputs.arrays);
  });

  it('that argv matches test/golden/launcher/readme.args', () => {
    const actual = outputs.arrays ?? '';
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(join(GOLDEN, '..'), { recursive: true });
      writeFileSync(GOLDEN, actual);
    }
    assert.ok(existsSync(GOLDEN), `missing ${GOLDEN}: run with UPDATE_GOLDEN=1 and review it`);
    assert.equal(actual, readFileSync(GOLDEN, 'utf8'));
  });

  it('keeps the options in order after vmkit\'s control options, with -name merged', () => {
    const lines = (outputs.arrays ?? '').trimEnd().split('\n');
    assert.equal(lines[0], '-S');
    assert.ok(lines.includes('guest=my virtual machine,debug-threads=on'));
    assert.ok(!lines.includes('-nodefaults'), 'qemu-launcher options assume QEMU defaults');
    const machine = lines.indexOf('-machine');
    assert.equal(lines[machine + 1], 'pc,accel=kvm');
    assert.ok(lines.indexOf('-nographic') > machine && lines.indexOf('-drive') > lines.indexOf('-device'));
  });
});
