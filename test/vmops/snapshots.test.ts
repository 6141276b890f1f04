import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEmbedded, VmkitError, type Connection } from '../../src/index.js';
import type { Domain } from '../../src/driver/domain.js';
import { blockCommit, createSnapshot, deleteSnapshot, listSnapshots, revertSnapshot } from '../../src/vmops/snapshots.js';
import { snapshotFile } from '../../src/vmops/snapshot-store.js';
import { ACCEL_NOTE, tinyYaml } from '../helpers/guest.js';
import { countsContinue, watchConsole, type ConsoleWatch } from './guest-console.js';

function qemuImg(...args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8' });
}

describe(`snapshots of a running guest (real QEMU; ${ACCEL_NOTE})`, () => {
  let base: string;
  let conn: Connection;
  let d: Domain;
  let c: ConsoleWatch;
  let disk: string;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-snap-'));
    disk = join(base, 'disk.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', disk, '64M');
    conn = await openEmbedded({ root: join(base, 'root') });
    d = (await conn.define({ text: tinyYaml({ name: 'sn', action: 'count', extra: `disks:\n  - { path: ${JSON.stringify(disk)}, format: qcow2 }` }) })) as Domain;
    c = watchConsole(d);
    await d.start();
    await c.waitCount(5);
  });
  after(async () => {
    await conn?.close();
    await rm(base, { recursive: true, force: true });
  });

  it('revert to an internal snapshot brings the counter back to where it was, without a reboot', { timeout: 180_000 }, async () => {
    const s1 = await createSnapshot(d, 'one', { description: 'first' });
    assert.equal(s1.kind, 'internal');
    assert.equal(s1.memory, true);
    const atSnap = c.count();
    assert.match(qemuImg('snapshot', '-l', '-U', disk), /\bone\b/, 'the snapshot is inside the image');
    await c.waitCount(atSnap + 30);
    const from = c.counts().length;
    await revertSnapshot(d, 'one');
    assert.equal(d.state(), 'running');
    await c.waitCount(0);
    const start = Date.now();
    while (c.counts().length < from + 5 && Date.now() - start < 60_000) await new Promise((r) => setTimeout(r, 100));
    const after = c.counts().slice(from);
    assert.ok((after[0] ?? 0) >= atSnap - 1 && (after[0] ?? 0) <= atSnap + 3, `after the revert the counter went on from ${after[0]} (snapshot taken at ${atSnap}, before the revert at ${c.counts()[from - 1]})`);
    assert.ok(countsContinue(after));
    assert.equal(c.text().match(/VMKIT-GUEST-BANNER/g)?.length, 1, 'no second boot');
    const list = await listSnapshots(d);
    assert.deepEqual(list.map((s) => [s.name, s.current]), [['one', true]]);
  });

  it('a second snapshot is a child of the first; names are checked; deleting removes it from the image and the tree', { timeout: 120_000 }, async () => {
    await createSnapshot(d, 'two');
    const list = await listSnapshots(d);
    assert.equal(list.find((s) => s.name === 'two')?.parent, 'one');
    await assert.rejects(createSnapshot(d, 'two'), (e: unknown) => e instanceof VmkitError && e.code === 'AlreadyExists');
    await assert.rejects(createSnapshot(d, '../x'), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument' && /Invalid snapshot name/.test(e.message));
    await assert.rejects(revertSnapshot(d, 'nope'), (e: unknown) => e instanceof VmkitError && e.code === 'NotFound' && /one, two/.test(e.message));
    await deleteSnapshot(d, 'one');
    assert.doesNotMatch(qemuImg('snapshot', '-l', '-U', disk), /\bone\b/);
    const tree = JSON.parse(await readFile(snapshotFile(join(base, 'root'), 'sn'), 'utf8')) as { current: string; snapshots: { name: string; parent?: string }[] };
    assert.deepEqual(tree.snapshots.map((s) => [s.name, s.parent]), [['two', undefined]]);
    assert.equal(tree.current, 'two');
    await deleteSnapshot(d, 'two');
    assert.ok(!existsSync(snapshotFile(join(base, 'root'), 'sn')));
  });

  it('an external snapshot puts a qcow2 overlay on the disk (definition included); block-commit merges it back', { timeout: 120_000 }, async () => {
    const from = c.counts().length;
    const s = await createSnapshot(d, 'ext', { kind: 'external' });
    const overlay = s.disks[0]?.overlay ?? '';
    assert.ok(existsSync(overlay));
    assert.match(qemuImg('info', '-U', overlay), new RegExp(`backing file: ${disk.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.equal(d.spec.disks[0]?.path, overlay, 'the stored definition follows the overlay');
    assert.equal((await d.info()).disks[0]?.path, overlay);
    await assert.rejects(revertSnapshot(d, 'ext'), (e: unknown) => e instanceof VmkitError && /internal snapshots only/.test(e.message));
    const r = await blockCommit(d, 'disk0');
    assert.equal(r.path, disk);
    assert.equal(d.spec.disks[0]?.path, disk);
    assert.equal(d.spec.disks[0]?.format, 'qcow2');
    assert.ok(!existsSync(overlay), 'the merged overlay is removed');
    await c.waitCount(c.count() + 3);
    assert.ok(countsContinue(c.counts().slice(from)), 'the guest ran on through snapshot and commit');
    await deleteSnapshot(d, 'ext');
  });

  it('an internal snapshot of a raw disk is refused with the reason', { timeout: 60_000 }, async () => {
    const raw = join(base, 'raw.img');
    qemuImg('create', '-q', '-f', 'raw', raw, '8M');
    const d2 = (await conn.define({ text: tinyYaml({ name: 'rawsn', action: 'count', extra: `disks:\n  - { path: ${JSON.stringify(raw)}, format: raw }` }) })) as Domain;
    await d2.start({ paused: true });
    await assert.rejects(createSnapshot(d2, 's'), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument' && /'disk0' \(raw\) is not qcow2/.test(e.message));
    await d2.destroy();
  });
});
