import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Transport } from '../../src/api/transport.js';
import { RemoteConnection, VmkitError } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { ACCEL_NOTE, tinyGuest, tinyYaml } from '../helpers/guest.js';
import { killQemusUnder } from '../driver/fixtures.js';
import { daemonBase, spawnDaemon, type DaemonProc } from '../api/daemon-process.js';
import { countsContinue, watchConsole } from './guest-console.js';

describe(`hotplug, save and snapshots through the daemon and the CLI (real QEMU; ${ACCEL_NOTE})`, () => {
  let base: string;
  let daemon: DaemonProc;
  let uri: string;
  before(async () => {
    tinyGuest();
    base = await daemonBase('vmkit-test-vmops-daemon-');
    daemon = await spawnDaemon(join(base, 'd.sock'), join(base, 'root'));
    uri = `unix://${daemon.socket}`;
  });
  after(async () => {
    await daemon?.stop();
    await killQemusUnder(base);
    await rm(base, { recursive: true, force: true });
  });

  it('attach-disk, show, save and start (restore) as a user runs them; QEMU may run as another account', { timeout: 180_000 }, async () => {
    const conn = await RemoteConnection.open(daemon.socket);
    try {
      const d = await conn.define({ text: tinyYaml({ name: 'ops', action: 'count' }) });
      await d.start({ paused: true });
      await d.openConsole();
      const c = watchConsole(d);
      await d.resume();
      await c.waitCount(5);
      const img = join(base, 'extra.img');
      await writeFile(img, Buffer.alloc(1024 * 1024));
      await chmod(img, 0o666); // QEMU runs as vmkit-qemu under a root daemon
      const attach = await runCli(['attach-disk', 'ops', img, '--format', 'raw', '--id', 'extra', '--connect', uri]).done;
      assert.equal(attach.code, 0, attach.stderr);
      assert.match(attach.stdout, /Disk extra attached to ops \(root port pci\.\d+\)/);
      const noFormat = await runCli(['attach-disk', 'ops', img, '--connect', uri]).done;
      assert.equal(noFormat.code, 2, noFormat.stderr);
      assert.match(noFormat.stderr, /--format/);
      const show = await runCli(['show', 'ops', '--connect', uri]).done;
      assert.match(show.stdout, /Hotplug:\s+4 PCIe root ports reserved, 3 free/);
      assert.match(show.stdout, /extra: .*extra\.img \(raw, virtio/);

      const save = await runCli(['save', 'ops', '--connect', uri]).done;
      assert.equal(save.code, 0, save.stderr);
      assert.match(save.stdout, /ops saved to .*ops\.save .*'vmkit start ops' restores it/);
      assert.match(save.stderr, /save: completed 100%/);
      const before = c.count();
      const list = await runCli(['list', '--all', '--connect', uri]).done;
      assert.match(list.stdout, /ops\s+saved/);
      const start = await runCli(['start', 'ops', '--connect', uri]).done;
      assert.equal(start.code, 0, start.stderr);
      d.closeConsole();
      await d.openConsole();
      const c2 = watchConsole(d);
      await c2.waitCount(before + 3);
      assert.ok((c2.counts()[0] ?? 0) > 1 && countsContinue(c2.counts()), `counts after the restore: ${c2.counts().slice(0, 5).join(',')} (saved at ${before})`);
      assert.ok((await d.info()).disks.some((x) => x.id === 'extra'), 'restored with the hot-plugged disk');
      await d.destroy();
      await conn.undefine('ops');
    } finally {
      await conn.close();
    }
  });

  it('the routes refuse bad bodies naming the field, and operations in the wrong state with InvalidState', { timeout: 60_000 }, async () => {
    const conn = await RemoteConnection.open(daemon.socket);
    const t = new Transport(daemon.socket);
    try {
      await conn.define({ text: tinyYaml({ name: 'idle', action: 'count' }) });
      await assert.rejects(t.request('POST', '/v1/domains/idle/attach-disk', { id: 'x', path: '/tmp/x', format: 'raw', bogus: 1 }), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument' && /'bogus'/.test(e.message));
      await assert.rejects(t.request('POST', '/v1/domains/idle/setvcpus', { count: 'two' }), (e: unknown) => e instanceof VmkitError && /'count' must be a whole number/.test(e.message));
      await assert.rejects(t.request('POST', '/v1/domains/idle/save', {}), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidState' && /shutoff/.test(e.message));
      await assert.rejects(t.request('POST', '/v1/domains/idle/migrate', { to: 'tcp://elsewhere' }), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidState');
      const snap = await runCli(['snapshot', 'create', 'idle', 's1', '--connect', uri]).done;
      assert.equal(snap.code, 1, snap.stderr);
      assert.match(snap.stderr, /is shutoff, and create a snapshot needs running or paused/);
      const mig = await runCli(['migrate', 'idle', '--connect', uri]).done;
      assert.equal(mig.code, 2);
      assert.match(mig.stderr, /--to is required/);
      await conn.undefine('idle');
    } finally {
      t.close();
      await conn.close();
    }
  });

  it('snapshot create --xmlfile takes libvirt <domainsnapshot> XML (an external overlay where it says, a disk left out); snapshot dumpxml writes it back; bad XML is placed at file:line:col', { timeout: 180_000 }, async () => {
    const conn = await RemoteConnection.open(daemon.socket);
    try {
      const os = join(base, 'xs-os.qcow2');
      const data = join(base, 'xs-data.qcow2');
      for (const f of [os, data]) {
        execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', f, '32M']);
        await chmod(f, 0o666); // QEMU runs as vmkit-qemu under a root daemon
      }
      const overlays = join(base, 'overlays');
      await mkdir(overlays);
      await chmod(overlays, 0o777);
      const overlay = join(overlays, 'os-after.qcow2');
      const d = await conn.define({ text: tinyYaml({ name: 'xs', action: 'count', extra: `disks:\n  - { path: ${JSON.stringify(os)}, format: qcow2 }\n  - { path: ${JSON.stringify(data)}, format: qcow2 }` }) });
      await d.start();
      const xmlFile = join(base, 'snap.xml');
      await writeFile(xmlFile, `<domainsnapshot>\n  <name>upgrade</name>\n  <description>before the upgrade</description>\n  <memory snapshot='no'/>\n  <disks>\n    <disk name='vda' snapshot='external'>\n      <driver type='qcow2'/>\n      <source file='${overlay}'/>\n    </disk>\n    <disk name='vdb' snapshot='no'/>\n  </disks>\n</domainsnapshot>\n`);
      const made = await runCli(['snapshot', 'create', 'xs', '--xmlfile', xmlFile, '--connect', uri]).done;
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, /Snapshot upgrade of xs created \(external, disk-only\)/);
      const info = JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', overlay], { encoding: 'utf8' })) as { format: string; 'backing-filename'?: string };
      assert.equal(info.format, 'qcow2');
      assert.equal(info['backing-filename'], os, 'the overlay QEMU created sits on the old image');
      const after = (await d.info()).disks;
      assert.equal(after.find((x) => x.id === 'disk0')?.path, overlay);
      assert.equal(after.find((x) => x.id === 'disk1')?.path, data, 'the disk named snapshot=no keeps its image');

      const dump = await runCli(['snapshot', 'dumpxml', 'xs', 'upgrade', '--connect', uri]).done;
      assert.equal(dump.code, 0, dump.stderr);
      assert.match(dump.stdout, /^<domainsnapshot>\n  <name>upgrade<\/name>\n  <description>before the upgrade<\/description>\n  <state>running<\/state>\n  <creationTime>\d+<\/creationTime>\n  <memory snapshot='no'\/>/);
      assert.ok(dump.stdout.includes(`<disk name='vda' snapshot='external' type='file'>\n      <driver type='qcow2'/>\n      <source file='${overlay}'/>`), dump.stdout);
      assert.match(dump.stdout, /<disk name='vdb' snapshot='no'\/>/);
      const missing = await runCli(['snapshot', 'dumpxml', 'xs', 'nope', '--connect', uri]).done;
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /has no snapshot 'nope'; it has upgrade/);

      // Bad XML: placed, nothing created.
      await writeFile(xmlFile, `<domainsnapshot>\n  <name>two</name>\n  <disks>\n    <disk name='vdz' snapshot='external'/>\n  </disks>\n</domainsnapshot>\n`);
      const bad = await runCli(['snapshot', 'create', 'xs', '--xmlfile', xmlFile, '--connect', uri]).done;
      assert.equal(bad.code, 2, bad.stderr);
      assert.ok(bad.stderr.includes(`${xmlFile}:4:11: /domainsnapshot/disks/disk/@name: The domain has no such disk (expected vda (disk0), vdb (disk1), found vdz)`), bad.stderr);
      // An overlay that exists already is refused (vmkit never reuses a file).
      await writeFile(xmlFile, `<domainsnapshot><name>again</name><disks><disk name='vdb'><source file='${overlay}'/></disk><disk name='vda' snapshot='no'/></disks></domainsnapshot>`);
      const reuse = await runCli(['snapshot', 'create', 'xs', '--xmlfile', xmlFile, '--connect', uri]).done;
      assert.equal(reuse.code, 2, reuse.stderr);
      assert.match(reuse.stderr, /already exists: vmkit creates overlays and never reuses a file/);
      const list = await runCli(['snapshot', 'list', 'xs', '--json', '--connect', uri]).done;
      assert.deepEqual((JSON.parse(list.stdout) as { name: string }[]).map((x) => x.name), ['upgrade']);
      await d.destroy();
      await conn.undefine('xs');
    } finally {
      await conn.close();
    }
  });
});
