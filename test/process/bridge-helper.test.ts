/** The bridge helper pre-flight: ACL parsing as the helper reads it, and the reasons a bridge NIC cannot start. */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { bridgeAllowed, checkBridges, readBridgeAcl } from '../../src/process/bridge-helper.js';
import { VmkitError, type Problem } from '../../src/errors.js';
import { baseSpec } from '../qemu/fixtures.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-bridge-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('the ACL: allow and deny lines, includes, comments; a deny wins, then an allow (or all)', async () => {
  await writeFile(join(dir, 'extra.conf'), 'allow br1\ndeny br2\n');
  await writeFile(join(dir, 'bridge.conf'), '# bridges for QEMU\nallow br0\ninclude extra.conf\nallow br2 # but denied\n');
  const acl = await readBridgeAcl(join(dir, 'bridge.conf'));
  assert.equal(bridgeAllowed(acl, 'br0'), true);
  assert.equal(bridgeAllowed(acl, 'br1'), true);
  assert.equal(bridgeAllowed(acl, 'br2'), false);
  assert.equal(bridgeAllowed(acl, 'virbr0'), false);
  assert.equal(bridgeAllowed({ allow: new Set(['all']), deny: new Set() }, 'virbr0'), true);
  assert.equal(bridgeAllowed({ allow: new Set(['all']), deny: new Set(['all']) }, 'br0'), false);
});

test('a bridge NIC that cannot work here is refused before QEMU starts, with every reason and its fix', async () => {
  const helper = join(dir, 'qemu-bridge-helper');
  await writeFile(helper, '');
  await chmod(helper, 0o755);
  await writeFile(join(dir, 'acl.conf'), 'allow br0\n');
  const sysNet = join(dir, 'net');
  await mkdir(join(sysNet, 'br0', 'bridge'), { recursive: true });
  const spec = {
    ...baseSpec(),
    nics: [
      { kind: 'bridge', id: 'net0', model: 'virtio', bridge: 'br0' },
      { kind: 'bridge', id: 'net1', model: 'virtio', bridge: 'br9' },
    ],
  } as const;
  const opts = { helper, conf: join(dir, 'acl.conf'), sysNet };
  await assert.rejects(checkBridges({ ...spec, source: { format: 'vmkit-yaml', file: '/defs/b.yaml' } }, { ...opts, asRoot: false }), (e: unknown) => {
    assert.ok(e instanceof VmkitError && e.code === 'HostError');
    assert.match(e.message, /nics\[0\]\.bridge: QEMU does not run as root and \S+ is not setuid root: chmod u\+s/);
    assert.match(e.message, /nics\[1\]\.bridge: .*acl\.conf does not allow bridge br9: add the line "allow br9"/);
    assert.match(e.message, /nics\[1\]\.bridge: there is no host bridge br9 \(create it: ip link add br9 type bridge/);
    // The same problems as data: Problems at the NIC's field, in the definition's file (never bare strings).
    const problems = e.details.problems as Problem[];
    assert.deepEqual(problems.map((p) => [p.file, p.path, p.found]), [
      ['/defs/b.yaml', 'nics[0].bridge', undefined],
      ['/defs/b.yaml', 'nics[1].bridge', '"br9"'],
      ['/defs/b.yaml', 'nics[1].bridge', '"br9"'],
    ]);
    assert.ok(problems.every((p) => typeof p.message === 'string' && !p.message.startsWith('nics[')));
    return true;
  });
  await checkBridges({ ...spec, nics: [spec.nics[0]] }, { ...opts, asRoot: true });
  await assert.rejects(checkBridges({ ...spec, nics: [spec.nics[0]] }, { ...opts, conf: join(dir, 'missing.conf'), asRoot: true }), /cannot be read .* create it with a line "allow br0"/);
  await checkBridges(baseSpec(), { ...opts, helper: join(dir, 'nothing'), asRoot: false }); // no bridge NIC: nothing to check
});
