import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import type { DiskSpec } from '../../src/model/domain.js';
import { diskTargets, parseSnapshotXml, snapshotToXml } from '../../src/vmops/snapshot-xml.js';
import type { SnapshotRecord } from '../../src/vmops/snapshot-store.js';
import { parseXml } from '../../src/config/libvirt/xml-tree.js';

const disk = (id: string, path: string, extra: Partial<DiskSpec> = {}): DiskSpec => ({ id, path, format: 'qcow2', bus: 'virtio', media: 'disk', readonly: false, ...extra });
const DISKS: DiskSpec[] = [disk('disk0', '/var/lib/vm/os.qcow2'), disk('disk1', '/var/lib/vm/data.qcow2'), disk('cd', '/isos/x.iso', { format: 'raw', bus: 'sata', media: 'cdrom', readonly: true })];

function problemsOf(fn: () => unknown): { line?: number; col?: number; path: string; message: string; file?: string }[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return [...e.problems];
  }
  assert.fail('expected a ConfigError');
}

describe('libvirt <domainsnapshot> XML', () => {
  it('names disks as the domain exporter does: vda, vdb on virtio, sda on sata', () => {
    assert.deepEqual([...diskTargets(DISKS).entries()], [['disk0', 'vda'], ['disk1', 'vdb'], ['cd', 'sda']]);
  });

  it('reads the disk-only request of libvirt\'s documentation: one disk external to a new file, the other left out', () => {
    // As formatsnapshot's first example: a description, a disk named by its image path with a new <source file>, one snapshot='no'.
    const xml = `<domainsnapshot>
  <description>Snapshot of OS install and updates</description>
  <memory snapshot='no'/>
  <disks>
    <disk name='/var/lib/vm/os.qcow2'>
      <source file='/var/lib/vm/os-after.qcow2'/>
    </disk>
    <disk name='vdb' snapshot='no'/>
  </disks>
</domainsnapshot>`;
    const r = parseSnapshotXml(xml, DISKS, 'snap.xml');
    assert.deepEqual(r, {
      description: 'Snapshot of OS install and updates',
      kind: 'external',
      memory: false,
      disks: [
        { id: 'disk0', snapshot: 'external', file: '/var/lib/vm/os-after.qcow2' },
        { id: 'disk1', snapshot: 'no' },
      ],
    });
  });

  it('reads a full-system request (name, memory internal, disks internal) and the bare <domainsnapshot/>', () => {
    const r = parseSnapshotXml(`<domainsnapshot><name>os-updates</name><memory snapshot='internal'/><disks><disk name='vda' snapshot='internal'/><disk name='disk1' snapshot='internal'/></disks></domainsnapshot>`, DISKS);
    assert.deepEqual(r, { name: 'os-updates', kind: 'internal', memory: true, disks: [{ id: 'disk0', snapshot: 'internal' }, { id: 'disk1', snapshot: 'internal' }] });
    assert.deepEqual(parseSnapshotXml('<domainsnapshot/>', DISKS), { kind: 'internal', memory: true, disks: [] });
  });

  it('skips what libvirt fills in itself (state, creationTime, parent, domain), so its dumpxml output reads back', () => {
    const xml = `<domainsnapshot>
  <name>1270477159</name>
  <state>running</state>
  <creationTime>1270477159</creationTime>
  <parent><name>bare-os-install</name></parent>
  <memory snapshot='no'/>
  <disks>
    <disk name='vda' snapshot='external' type='file'>
      <driver type='qcow2'/>
      <source file='/path/to/new'/>
    </disk>
    <disk name='vdb' snapshot='no'/>
  </disks>
  <domain><name>fedora</name><uuid>93a5c045-6457-2c09-e56c-927cdf34e178</uuid></domain>
</domainsnapshot>`;
    const r = parseSnapshotXml(xml, DISKS);
    assert.equal(r.name, '1270477159');
    assert.deepEqual(r.disks, [{ id: 'disk0', snapshot: 'external', file: '/path/to/new' }, { id: 'disk1', snapshot: 'no' }]);
  });

  it('bad XML gets file:line:col problems naming the node and what to write', () => {
    const broken = problemsOf(() => parseSnapshotXml("<domainsnapshot>\n  <name>x</nam>\n</domainsnapshot>", DISKS, 's.xml'));
    assert.equal(broken.length, 1);
    assert.equal(broken[0]?.file, 's.xml');
    assert.equal(broken[0]?.line, 2);
    assert.match(broken[0]?.message ?? '', /Not well-formed XML/);

    const xml = `<domainsnapshot>
  <name>../up</name>
  <memory snapshot='external' file='/tmp/mem'/>
  <disks>
    <disk name='vdq' snapshot='external'/>
    <disk name='vda' snapshot='external'>
      <driver type='raw'/>
      <source file='relative.qcow2'/>
    </disk>
    <disk name='vdb' snapshot='sometimes'/>
  </disks>
  <cookie/>
  <bogus/>
</domainsnapshot>`;
    const ps = problemsOf(() => parseSnapshotXml(xml, DISKS, 's.xml'));
    const at = (path: string): { line?: number; col?: number; message: string } | undefined => ps.find((p) => p.path === path);
    assert.deepEqual([at('/domainsnapshot/name')?.line, at('/domainsnapshot/name')?.col], [2, 9]);
    assert.match(at('/domainsnapshot/name')?.message ?? '', /Invalid snapshot name/);
    assert.match(at('/domainsnapshot/memory/@snapshot')?.message ?? '', /External memory state files are not supported/);
    assert.equal(at('/domainsnapshot/memory/@snapshot')?.line, 3);
    assert.match(at('/domainsnapshot/memory/@file')?.message ?? '', /not supported on <memory>/);
    assert.match(at('/domainsnapshot/disks/disk[1]/@name')?.message ?? '', /no such disk/);
    assert.deepEqual([at('/domainsnapshot/disks/disk[2]/driver/@type')?.line, at('/domainsnapshot/disks/disk[2]/driver/@type')?.col], [7, 15]);
    assert.match(at('/domainsnapshot/disks/disk[2]/source/@file')?.message ?? '', /absolute path/);
    assert.match(at('/domainsnapshot/disks/disk[3]/@snapshot')?.message ?? '', /Unknown disk snapshot mode/);
    assert.match(at('/domainsnapshot/bogus')?.message ?? '', /<bogus> is not part of a snapshot/);
    assert.equal(at('/domainsnapshot/cookie'), undefined, 'libvirt\'s read-only elements are skipped');
    assert.equal(at('/domainsnapshot/bogus')?.line, 13);
  });

  it('refuses what vmkit cannot take: mixed kinds, an internal snapshot without memory or leaving a disk out', () => {
    const mixed = problemsOf(() => parseSnapshotXml(`<domainsnapshot><disks><disk name='vda' snapshot='internal'/><disk name='vdb' snapshot='external'/></disks></domainsnapshot>`, DISKS));
    assert.match(mixed.map((p) => p.message).join('\n'), /mixes internal and external/);
    const noMem = problemsOf(() => parseSnapshotXml(`<domainsnapshot><memory snapshot='no'/><disks><disk name='vda' snapshot='internal'/></disks></domainsnapshot>`, DISKS));
    assert.match(noMem[0]?.message ?? '', /holds its memory/);
    const leaveOut = problemsOf(() => parseSnapshotXml(`<domainsnapshot><disks><disk name='vda' snapshot='internal'/><disk name='vdb' snapshot='no'/></disks></domainsnapshot>`, DISKS));
    assert.match(leaveOut[0]?.message ?? '', /holds every writable disk/);
    const notDoc = problemsOf(() => parseSnapshotXml('<domain/>', DISKS));
    assert.match(notDoc[0]?.message ?? '', /<domainsnapshot>/);
  });

  it('writes a record as libvirt does, and what it writes reads back to the same request', () => {
    const ext: SnapshotRecord = {
      name: 'ext1',
      kind: 'external',
      createdAt: '2026-01-02T03:04:05.000Z',
      parent: 'base',
      state: 'running',
      memory: false,
      description: 'before <upgrade> & co',
      disks: [{ id: 'disk0', base: '/var/lib/vm/os.qcow2', overlay: '/var/lib/vm/os-ext1.qcow2' }],
    };
    const xml = snapshotToXml(ext, { name: 'web', uuid: '93a5c045-6457-2c09-e56c-927cdf34e178', disks: DISKS });
    const t = parseXml(xml);
    assert.ok(t.ok);
    const text = (n: string): string | undefined => t.root.children.find((c) => c.name === n)?.text;
    assert.equal(text('name'), 'ext1');
    assert.equal(text('description'), 'before <upgrade> & co');
    assert.equal(text('state'), 'running');
    assert.equal(text('creationTime'), String(Date.UTC(2026, 0, 2, 3, 4, 5) / 1000));
    assert.equal(t.root.children.find((c) => c.name === 'parent')?.children[0]?.text, 'base');
    assert.match(xml, /<memory snapshot='no'\/>/);
    assert.match(xml, /<disk name='vda' snapshot='external' type='file'>\n\s+<driver type='qcow2'\/>\n\s+<source file='\/var\/lib\/vm\/os-ext1.qcow2'\/>/);
    assert.match(xml, /<disk name='vdb' snapshot='no'\/>/);
    assert.match(xml, /<disk name='sda' snapshot='no'\/>/);
    assert.match(xml, /<domain>\n\s+<name>web<\/name>\n\s+<uuid>93a5c045/);
    assert.deepEqual(parseSnapshotXml(xml, DISKS), {
      name: 'ext1',
      description: 'before <upgrade> & co',
      kind: 'external',
      memory: false,
      disks: [{ id: 'disk0', snapshot: 'external', file: '/var/lib/vm/os-ext1.qcow2' }, { id: 'disk1', snapshot: 'no' }, { id: 'cd', snapshot: 'no' }],
    });
    const int: SnapshotRecord = { name: 'i', kind: 'internal', createdAt: ext.createdAt, state: 'paused', memory: true, disks: [{ id: 'disk0', image: '/a' }, { id: 'disk1', image: '/b' }] };
    const ixml = snapshotToXml(int, { name: 'web', disks: DISKS });
    assert.match(ixml, /<memory snapshot='internal'\/>/);
    assert.match(ixml, /<disk name='vda' snapshot='internal'\/>\n\s+<disk name='vdb' snapshot='internal'\/>\n\s+<disk name='sda' snapshot='no'\/>/);
    assert.deepEqual(parseSnapshotXml(ixml, DISKS).kind, 'internal', 'the CD-ROM left out does not make it external');
  });
});
