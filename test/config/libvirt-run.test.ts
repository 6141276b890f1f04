/**
 * `vmkit run domain.xml` with whole domains completed from the seeds' XML snippets, booting the tiny guest
 * under TCG (where /dev/kvm exists it is nested and cannot boot guest kernels, hence `<domain type='qemu'>`). Paths differ per
 * machine, so each domain is written from a template. The tuning elements are read back from /proc.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { childPids, cmdline, explain, runCli } from '../helpers/cli.js';
import { ACCEL_NOTE, fastCmdline, tinyGuest } from '../helpers/guest.js';
import { allowedCpus, threadSched } from '../tuning/qemu-fixture.js';

const SCHED_BATCH = 3;
const SCHED_OTHER = 0;

function qemuPath(): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const p = join(dir, 'qemu-system-x86_64');
    if (dir !== '' && existsSync(p)) return p;
  }
  throw new Error('qemu-system-x86_64 is not on PATH');
}

/** The host CPUs this process may run on (a pinning test needs CPUs 0 and 1). */
async function allowedHere(): Promise<string> {
  const status = await readFile('/proc/self/status', 'utf8');
  return /^Cpus_allowed_list:\s*(.*)$/m.exec(status)?.[1] ?? '';
}

/** `<os>` for the tiny guest, and `<features><acpi/>` as virt-install writes it (without it libvirt gives no ACPI). */
function boot(cmdlineText: string): string {
  const g = tinyGuest();
  return `<os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>${g.vmlinux}</kernel>
    <initrd>${g.initrd}</initrd>
    <cmdline>${cmdlineText}</cmdline>
  </os>
  <features><acpi/><apic/></features>`;
}

describe(`vmkit run with libvirt domain XML (real QEMU; ${ACCEL_NOTE})`, () => {
  let work: string;
  let runTmp: string;
  const env = (): NodeJS.ProcessEnv => ({ TMPDIR: runTmp, XDG_RUNTIME_DIR: '' });

  before(async () => {
    tinyGuest();
    work = await mkdtemp(join(tmpdir(), 'vmkit-test-libvirt-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function domainFile(name: string, xml: string, images: readonly string[] = []): Promise<string> {
    runTmp = await mkdtemp(join(work, `tmp-${name}-`));
    for (const img of images) {
      await writeFile(join(work, img), '');
      await truncate(join(work, img), 32 << 20);
    }
    const file = join(work, `${name}.xml`);
    await writeFile(file, xml);
    return file;
  }

  it("boots the seed's first domain (uuid, memory in KiB, vcpu, on_* actions, emulator, disk, interface, memballoon)", { timeout: 90_000 }, async () => {
    const file = await domainFile(
      'seed003',
      `<domain type='qemu'>
  <name>fedora</name>
  <uuid>63840878-0deb-4095-97e6-fc444d9bc9fa</uuid>
  <memory unit='KiB'>262144</memory>
  <vcpu>2</vcpu>
  ${boot('console=ttyS0 quiet vmkit.action=report')}
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>restart</on_crash>
  <devices>
    <emulator>${qemuPath()}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='seed003.img'/>
      <target dev='vda' bus='virtio'/>
      <serial>SEED003</serial>
    </disk>
    <interface type='user'>
      <mac address='52:54:00:6d:90:02'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'/>
    <memballoon model='virtio'/>
  </devices>
</domain>
`,
      ['seed003.img'],
    );
    const r = await runCli(['run', '--console', file], { env: env() }).done;
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, /VMKIT-GUEST-BANNER kernel=\S+ cpus=2/);
    assert.match(r.stdout, /VMKIT-REPORT disk name=vda size=65536 ro=0 serial=SEED003/);
    assert.match(r.stdout, /VMKIT-REPORT net=eth0/);
    assert.match(r.stdout, /VMKIT-REPORT cmdline=console=ttyS0 quiet vmkit\.action=report/);
    assert.match(r.stderr, /started 'fedora' .*accel tcg/);
    assert.match(r.stderr, /warning: on_crash restart does not apply to 'vmkit run'/, 'the one-shot run says what it does not honour');
    assert.deepEqual(await readdir(runTmp), [], 'the private root is removed');
  });

  it("runs the seed's dataplane domain and applies <cputune> (pins with exclusions, schedulers) before the guest runs", { timeout: 90_000 }, async (t) => {
    const cpus = await allowedHere();
    if (!/^0-\d+$/.test(cpus) || cpus === '0-0') {
      t.skip(`needs host CPUs 0 and 1 (this process may use ${cpus})`);
      return;
    }
    const file = await domainFile(
      'seed004',
      `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>dataplane</name>
  <memory unit='MiB'>256</memory>
  <vcpu placement='static'>2</vcpu>
  <iothreads>1</iothreads>
  <cputune>
    <vcpupin vcpu='0' cpuset='0-1,^0'/>
    <vcpupin vcpu='1' cpuset='0'/>
    <emulatorpin cpuset='0-1'/>
    <iothreadpin iothread='1' cpuset='1'/>
    <iothreadsched iothreads='1' scheduler='batch'/>
    <emulatorsched scheduler='batch'/>
  </cputune>
  ${boot('console=ttyS0 quiet vmkit.action=sleep vmkit.sleep=5')}
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='native' iothread='1'/>
      <source file='${join(work, 'seed004.img')}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <console type='pty'><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-set'/>
    <qemu:arg value='device.disk0.scsi=off'/>
  </qemu:commandline>
  <qemu:commandline>
    <qemu:arg value='-set'/>
    <qemu:arg value='device.disk0.config-wce=off'/>
  </qemu:commandline>
</domain>
`,
      ['seed004.img'],
    );
    const run = runCli(['run', '--console', file], { env: env() });
    await run.waitFor('VMKIT-GUEST-READY', 60_000);
    let qemu: number | undefined;
    for (const pid of await childPids(run.child.pid ?? -1)) if ((await cmdline(pid))?.some((a) => a.includes('qemu-system')) === true) qemu = pid;
    assert.ok(qemu !== undefined, 'QEMU is a child of vmkit');
    const argv = (await cmdline(qemu)) ?? [];
    assert.ok(argv.includes('iothread,id=iothread1'), 'the disk iothread has its -object iothread');
    assert.ok(argv.some((a) => a.startsWith('driver=file,') && a.includes('cache.direct=on') && a.includes('aio=native')), "cache='none' io='native' reach the file node");
    assert.ok(argv.some((a) => a.startsWith('virtio-blk-pci,') && a.includes('iothread=iothread1')));
    assert.deepEqual(argv.slice(-4), ['-set', 'device.disk0.scsi=off', '-set', 'device.disk0.config-wce=off']);

    const byComm = new Map<string, number[]>();
    for (const tid of (await readdir(`/proc/${qemu}/task`)).map(Number)) {
      const comm = (await readFile(`/proc/${qemu}/task/${tid}/comm`, 'utf8').catch(() => '')).trim();
      byComm.set(comm, [...(byComm.get(comm) ?? []), tid]);
    }
    const one = (comm: string): number => {
      const tids = byComm.get(comm) ?? [];
      assert.equal(tids.length, 1, `one thread named ${comm} (threads: ${[...byComm.keys()].join(', ')})`);
      return tids[0] as number;
    };
    assert.equal(await allowedCpus(qemu, one('CPU 0/TCG')), '1', "vcpupin cpuset='0-1,^0'");
    assert.equal(await allowedCpus(qemu, one('CPU 1/TCG')), '0');
    assert.equal((await threadSched(qemu, one('CPU 0/TCG'))).policy, SCHED_OTHER);
    assert.equal(await allowedCpus(qemu, one('IO iothread1')), '1', 'iothreadpin');
    assert.equal((await threadSched(qemu, one('IO iothread1'))).policy, SCHED_BATCH, 'iothreadsched batch');
    assert.equal(await allowedCpus(qemu, qemu), '0-1', 'emulatorpin');
    assert.equal((await threadSched(qemu, qemu)).policy, SCHED_BATCH, 'emulatorsched batch on the main thread');

    const r = await run.done;
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, /VMKIT-GUEST-POWEROFF/);
  });

  it("boots the seed's scale-test domain on x86_64: direct kernel boot, <console>, a SCSI disk on virtio-scsi", { timeout: 90_000 }, async () => {
    const file = await domainFile(
      'seed002',
      `<domain type='qemu'>
  <name>guest-0001</name>
  <memory unit='MiB'>128</memory>
  ${boot('console=ttyS0 quiet root=/dev/ram vmkit.action=report')}
  <devices>
    <console type='pty'>
      <target type='serial'/>
    </console>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file="seed002.img"/>
      <target dev="sda" bus='scsi'/>
    </disk>
    <controller type='scsi' index='0' model='virtio-scsi'/>
  </devices>
</domain>
`,
      ['seed002.img'],
    );
    const r = await runCli(['run', '--console', file], { env: env() }).done;
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, /VMKIT-GUEST-BANNER kernel=\S+ cpus=1/);
    assert.match(r.stdout, /VMKIT-REPORT disk name=sda size=65536 ro=0/);
    assert.deepEqual(await readdir(runTmp), []);
  });

  it('boots from a virsh dumpxml-style q35 document: disk and NIC behind pcie-root-ports, every controller and address as libvirt writes them', { timeout: 90_000 }, async () => {
    const g = tinyGuest();
    const port = (index: number, fn: number): string =>
      `<controller type='pci' index='${index}' model='pcie-root-port'>\n      <model name='pcie-root-port'/>\n      <target chassis='${index}' port='0x${(0x10 + fn).toString(16)}'/>\n      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x${fn}'${fn === 0 ? " multifunction='on'" : ''}/>\n    </controller>`;
    const file = await domainFile(
      'dumpxml',
      `<domain type='qemu'>
  <name>dumpxml-boot</name>
  <uuid>7d0f1c2e-3b4a-4c5d-8e6f-0a1b2c3d4e5f</uuid>
  <memory unit='KiB'>262144</memory>
  <currentMemory unit='KiB'>262144</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <resource>
    <partition>/machine</partition>
  </resource>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <kernel>${g.vmlinux}</kernel>
    <initrd>${g.initrd}</initrd>
    <cmdline>${fastCmdline()} vmkit.action=report</cmdline>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <cpu mode='custom' match='exact' check='none'>
    <model fallback='forbid'>qemu64</model>
  </cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>${qemuPath()}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='${join(work, 'dumpxml.img')}'/>
      <target dev='vda' bus='virtio'/>
      <serial>DUMPXML</serial>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </disk>
    <controller type='usb' index='0' model='qemu-xhci' ports='15'>
      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>
    </controller>
    <controller type='sata' index='0'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/>
    </controller>
    <controller type='pci' index='0' model='pcie-root'/>
    ${port(1, 0)}
    ${port(2, 1)}
    ${port(3, 2)}
    ${port(4, 3)}
    <interface type='user'>
      <mac address='52:54:00:d1:0e:01'/>
      <model type='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
    <serial type='pty'>
      <target type='isa-serial' port='0'>
        <model name='isa-serial'/>
      </target>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <input type='mouse' bus='ps2'/>
    <input type='keyboard' bus='ps2'/>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </memballoon>
  </devices>
  <seclabel type='dynamic' model='dac' relabel='yes'/>
</domain>
`,
      ['dumpxml.img'],
    );
    const r = await runCli(['run', '--console', file], { env: env() }).done;
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, /VMKIT-REPORT disk name=vda size=65536 ro=0 serial=DUMPXML/, 'the disk behind root port pci.2 is found by the guest');
    assert.match(r.stdout, /VMKIT-REPORT net=eth0/, 'the NIC behind root port pci.1 too');
    assert.deepEqual(await readdir(runTmp), []);
  });

  it('refuses malformed XML and unsupported elements with exit 2, naming file, line, column and path', { timeout: 30_000 }, async () => {
    const broken = await domainFile('broken', "<domain type='qemu'>\n  <name>x</nam>\n</domain>\n");
    const v = await runCli(['validate', broken], { env: env() }).done;
    assert.equal(v.code, 2);
    assert.match(v.stdout, new RegExp(`${broken.replaceAll('.', '\\.')}:2:10: The XML is not well-formed`));
    const r = await runCli(['run', broken], { env: env() }).done;
    assert.equal(r.code, 2);
    assert.match(r.stdout + r.stderr, /broken\.xml:2:10: The XML is not well-formed/);

    const unsupported = await domainFile(
      'unsupported',
      `<domain type='qemu'>\n  <name>x</name>\n  <memory unit='MiB'>128</memory>\n  ${boot('console=ttyS0')}\n  <devices>\n    <smartcard mode='passthrough' type='spicevmc'/>\n  </devices>\n</domain>\n`,
    );
    const u = await runCli(['run', unsupported], { env: env() }).done;
    assert.equal(u.code, 2);
    assert.match(u.stdout + u.stderr, /unsupported\.xml:12:5: \/domain\/devices\/smartcard: <smartcard> in <devices> is not supported/);
    const wrongRoot = await domainFile('root', "<network><name>default</name></network>\n");
    const w = await runCli(['validate', '--json', wrongRoot], { env: env() }).done;
    assert.equal(w.code, 2);
    const out = JSON.parse(w.stdout) as { problems: { line: number; col: number; path: string }[] };
    assert.deepEqual(out.problems.map((p) => `${p.line}:${p.col} ${p.path}`), ['1:1 /network']);
  });
});
