/**
 * Serial ports QEMU owns itself, with the tiny guest booting under TCG: the guest's console goes to a file
 * (created 0600) or to a unix socket QEMU listens on (made 0600 before the guest runs), and vmkit's console
 * says why it has nothing for such a domain. A VNC display on an automatic port reports the port QEMU took.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attachConsole } from '../../src/cli/commands/console.js';
import { openEmbedded, VmkitError, type ExitInfo } from '../../src/index.js';
import { ACCEL_NOTE, fastCmdline, tinyGuest, tinyYaml } from '../helpers/guest.js';

describe(`serial to a file or a unix socket (real QEMU; ${ACCEL_NOTE})`, () => {
  let base: string;
  before(async () => {
    tinyGuest();
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-serial-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('the guest banner and report land in the serial file (0600); vmkit console refuses with the file name', { timeout: 120_000 }, async () => {
    const conn = await openEmbedded({ root: join(base, 'file') });
    const log = join(base, 'serial,guest.log');
    try {
      const d = await conn.define({ text: tinyYaml({ name: 'serfile', action: 'report', extra: `serial: {type: file, path: ${JSON.stringify(log)}}` }) });
      let consoleBytes = 0;
      d.on('console', (c) => (consoleBytes += c.length));
      const stopped = new Promise<ExitInfo>((r) => d.once('stopped', r));
      await d.start();
      await assert.rejects(
        attachConsole(d, {}),
        (e: unknown) => e instanceof VmkitError && e.code === 'InvalidState' && e.message.includes(`goes to the file ${log}`),
      );
      const info = await stopped;
      assert.equal(info.reason, 'shutdown');
      const text = await readFile(log, 'utf8');
      assert.match(text, /VMKIT-GUEST-BANNER/, "the guest's banner");
      assert.match(text, /VMKIT-REPORT cpus=1/);
      assert.equal((await stat(log)).mode & 0o777, 0o600);
      assert.equal(consoleBytes, 0, 'nothing reaches console events: the file is the serial port');
    } finally {
      await conn.close();
    }
  });

  it('the same from libvirt XML: <serial type=file> with its <console>, append=on keeps what was there', { timeout: 120_000 }, async () => {
    const conn = await openEmbedded({ root: join(base, 'xml') });
    const log = join(base, 'xml-serial.log');
    const g = tinyGuest();
    try {
      const d = await conn.define({
        text: `<domain type='qemu'>
  <name>serxml</name>
  <memory unit='MiB'>256</memory>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>${g.vmlinux}</kernel>
    <initrd>${g.initrd}</initrd>
    <cmdline>${fastCmdline()} vmkit.action=report</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <devices>
    <serial type='file'><source path='${log}' append='on'/><target port='0'/></serial>
    <console type='file'><source path='${log}' append='on'/><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
</domain>`,
      });
      for (let run = 1; run <= 2; run++) {
        const stopped = new Promise<ExitInfo>((r) => d.once('stopped', r));
        await d.start();
        assert.equal((await stopped).reason, 'shutdown');
      }
      const text = await readFile(log, 'utf8');
      assert.equal(text.match(/VMKIT-GUEST-BANNER/g)?.length, 2, 'both runs, appended');
    } finally {
      await conn.close();
    }
  });

  it('a unix socket serial is private (0600) and carries the console both ways', { timeout: 120_000 }, async () => {
    const conn = await openEmbedded({ root: join(base, 'unix') });
    const path = join(base, 'ser.sock');
    try {
      const d = await conn.define({ text: tinyYaml({ name: 'serunix', action: 'wait', extra: `serial: {type: unix, path: ${JSON.stringify(path)}}` }) });
      await d.start({ paused: true });
      assert.equal((await stat(path)).mode & 0o777, 0o600, 'private before the guest runs');
      const sock = connect(path);
      let text = '';
      const ready = new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no VMKIT-GUEST-READY on the socket:\n${text}`)), 90_000);
        sock.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('VMKIT-GUEST-READY')) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      await new Promise<void>((r) => sock.once('connect', () => r()));
      await d.resume();
      await ready;
      sock.destroy();
      await d.destroy();
    } finally {
      await conn.close();
    }
  });

  it('VNC on an automatic port: the domain info (vmkit show) has the port QEMU took', { timeout: 60_000 }, async () => {
    const conn = await openEmbedded({ root: join(base, 'vnc') });
    try {
      const d = await conn.define({ text: tinyYaml({ name: 'vncauto', action: 'wait', extra: 'graphics: {type: vnc, display: auto}' }) });
      await d.start({ paused: true });
      const info = await d.info();
      assert.equal(info.vnc?.host, '127.0.0.1');
      assert.ok(info.vnc !== undefined && info.vnc.port >= 5900 && info.vnc.port <= 5999, JSON.stringify(info.vnc));
      await d.destroy();
      assert.equal((await d.info()).vnc, undefined, 'no address once QEMU is gone');
    } finally {
      await conn.close();
    }
  });
});
