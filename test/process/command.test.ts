import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveIdentity } from '../../src/host/accounts.js';
import { qemuCommand, qemuEnvironment } from '../../src/process/command.js';
import { TailBuffer } from '../../src/util/tail-buffer.js';

const files = {
  passwd: 'root:x:0:0:root:/root:/bin/bash\nqemu:x:107:110::/var/lib/qemu:/usr/sbin/nologin\n',
  group: 'root:x:0:\nkvm:x:104:\nqemu:x:110:\ndisk:x:6:qemu\n',
};

describe('qemuCommand()', () => {
  it('starts QEMU through setpriv --pdeathsig KILL with the argv as separate words', () => {
    const c = qemuCommand('/usr/bin/setpriv', '/usr/bin/qemu-system-x86_64', ['-name', 'a b; rm -rf /']);
    assert.equal(c.file, '/usr/bin/setpriv');
    assert.deepEqual(c.args, ['--pdeathsig', 'KILL', '--', '/usr/bin/qemu-system-x86_64', '-name', 'a b; rm -rf /']);
  });
  it('drops to the identity with its groups, keeping kvm', () => {
    const id = resolveIdentity('qemu', undefined, files);
    assert.deepEqual(id, { uid: 107, gid: 110, groups: [6, 104, 110] });
    const c = qemuCommand('/s', '/q', [], id);
    assert.deepEqual(c.args.slice(0, 5), ['--pdeathsig', 'KILL', '--regid=110', '--groups=6,104,110', '--reuid=107']);
  });
  it('rejects unknown user and group names', () => {
    assert.throws(() => resolveIdentity('nobody-here', undefined, files), /Unknown user 'nobody-here'/);
    assert.throws(() => resolveIdentity(undefined, 'nogroup-here', files), /Unknown group 'nogroup-here'/);
  });
  it('accepts numeric ids that are not in the files', () => {
    assert.deepEqual(resolveIdentity(4242, 4343, files), { uid: 4242, gid: 4343, groups: [104, 4343] });
  });
});

describe('qemuEnvironment()', () => {
  it('inherits the environment and adds env', () => {
    assert.deepEqual(qemuEnvironment({ env: { A: '1' }, clearEnv: false }, { HOME: '/root' }), { HOME: '/root', A: '1' });
  });
  it('with clear_env passes only env', () => {
    assert.deepEqual(qemuEnvironment({ env: { A: '1' }, clearEnv: true }, { HOME: '/root', PATH: '/bin' }), { A: '1' });
  });
});

describe('TailBuffer', () => {
  it('keeps the last lines within its limit', () => {
    const t = new TailBuffer(16);
    t.push(Buffer.from('first line\n'));
    t.push(Buffer.from('second\nthird\n'));
    assert.deepEqual(t.lines(2), ['second', 'third']);
    assert.ok(t.text().length <= 16);
  });
});
