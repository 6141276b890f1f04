import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDefinition } from '../../src/config/parse-definition.js';
import { VmkitError } from '../../src/errors.js';
import { buildArgv } from '../../src/qemu/argv/index.js';
import { checkHot, hotDisk } from '../../src/vmops/hotplug-args.js';
import { applyHot, freePort, HOTPLUG_ROOT_PORTS, liveLaunch, reservePorts, setHot } from '../../src/vmops/live.js';
import { withoutSnapshot, type SnapshotTree } from '../../src/vmops/snapshot-store.js';
import { NO_HOT } from '../../src/vmops/types.js';

const spec = (extra = '', machine = 'q35') =>
  parseDefinition(['name: t', 'machine:', `  type: ${machine}`, '  accel: tcg', 'cpu: { vcpus: 1, max_vcpus: 2 }', 'memory: 128M', extra].join('\n'), { baseDir: '/tmp' });

const ctx = { qmpSocket: '/run/q.sock', pidFile: '/run/q.pid', consoleSocket: '/run/c.sock' };

describe('hotplug slots and hot state (pure)', () => {
  it(`reservePorts() adds ${HOTPLUG_ROOT_PORTS} PCIe root ports after the definition's own, with chassis numbers none of them uses`, () => {
    const s = spec('controllers:\n  - { type: pci, index: 1, model: pcie-root-port, chassis: 7 }');
    const { spec: r, ports } = reservePorts(s);
    assert.deepEqual(ports, [2, 3, 4, 5]);
    const added = (r.controllers ?? []).filter((c) => c.type === 'pci' && ports.includes(c.index));
    assert.deepEqual(added.map((c) => (c.type === 'pci' ? c.chassis : -1)), [8, 9, 10, 11]);
    const argv = buildArgv(r, { paths: ctx, accel: 'tcg' }).join(' ');
    assert.match(argv, /pcie-root-port,port=8,chassis=8,id=pci\.2/);
  });

  it('reservePorts() leaves pc and microvm machines alone', () => {
    assert.deepEqual(reservePorts(spec('', 'pc')).ports, []);
    assert.deepEqual(reservePorts(spec('', 'microvm')).ports, []);
  });

  it('a hot-plugged disk takes a free port; the same hot state gives the same layout (restore, migration)', () => {
    const { live } = liveLaunch(spec());
    const at = freePort(live);
    assert.deepEqual(at, { type: 'pci', domain: 0, bus: 1, slot: 0, function: 0 });
    const disk = hotDisk(live.spec, { id: 'extra', path: '/tmp/e.img', format: 'raw' }, at!);
    setHot(live, { ...live.hot, disks: [disk] });
    assert.equal(live.used.get(1), 'extra');
    assert.equal(freePort(live)?.bus, 2);
    const again = liveLaunch(spec(), live.hot);
    assert.deepEqual(again.spec.disks, live.spec.disks);
    assert.equal(applyHot(live.base, NO_HOT), live.base);
  });

  it('checkHot() accepts a source\'s hot state and refuses devices off the reserved ports, unknown removals and too many vCPUs', () => {
    const s = spec();
    const ok = checkHot(s, { disks: [{ id: 'x', path: '/tmp/x.img', format: 'raw', address: { type: 'pci', domain: 0, bus: 2, slot: 0, function: 0 } }], nics: [], removed: [], vcpus: 2 });
    assert.equal(ok.disks[0]?.address?.type === 'pci' ? ok.disks[0].address.bus : -1, 2);
    const bad = (hot: unknown, re: RegExp): void => assert.throws(() => checkHot(s, hot), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument' && re.test(e.message));
    bad({ disks: [{ id: 'x', path: '/tmp/x.img', format: 'raw', address: { type: 'pci', domain: 0, bus: 0, slot: 5, function: 0 } }] }, /hot\.disks\[0\]\.address/);
    bad({ disks: [{ id: 'x', path: 'rel.img', format: 'raw', address: { type: 'pci', domain: 0, bus: 1, slot: 0, function: 0 } }] }, /disk\.path/);
    bad({ removed: ['nope'] }, /hot\.removed\[0\]/);
    bad({ vcpus: 3 }, /hot\.vcpus: 1 to 2/);
    bad('x', /hot:/);
  });

  it('withoutSnapshot() moves the children of a deleted snapshot up to its parent', () => {
    const t: SnapshotTree = {
      version: 1,
      current: 'c',
      snapshots: [
        { name: 'a', kind: 'internal', createdAt: '', state: 'running', memory: true, disks: [] },
        { name: 'b', kind: 'internal', createdAt: '', parent: 'a', state: 'running', memory: true, disks: [] },
        { name: 'c', kind: 'internal', createdAt: '', parent: 'b', state: 'running', memory: true, disks: [] },
      ],
    };
    const r = withoutSnapshot(t, 'b');
    assert.deepEqual(r.snapshots.map((s) => [s.name, s.parent]), [['a', undefined], ['c', 'a']]);
    assert.equal(withoutSnapshot(r, 'c').current, 'a');
    assert.deepEqual(withoutSnapshot(r, 'a').snapshots.map((s) => [s.name, s.parent]), [['c', undefined]]);
  });
});
