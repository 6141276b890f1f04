import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ConfigError } from '../../src/errors.js';
import type { DomainSpec } from '../../src/model/domain.js';
import { buildArgv, describeArgv, diskNodeNames, parseDescribedArgv } from '../../src/qemu/argv/index.js';
import { cpuRanges } from '../../src/qemu/argv/memory.js';
import { argvContext, baseSpec, disk } from './fixtures.js';

const ctx = argvContext();

/** The values that follow each occurrence of `flag`. */
function valuesOf(argv: readonly string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag && i + 1 < argv.length ? [argv[i + 1] as string] : []));
}

function spec(over: Partial<DomainSpec>): DomainSpec {
  return { ...baseSpec(), ...over };
}

function assertConfigError(fn: () => unknown, path: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.equal(e.problems[0]?.path, path);
    return true;
  });
}

describe('buildArgv control options', () => {
  test('argv() starts with vmkit control options in a fixed order', () => {
    const argv = buildArgv(baseSpec(), ctx);
    assert.deepEqual(argv.slice(0, 13), [
      '-S',
      '-no-user-config',
      '-nodefaults',
      '-name',
      'guest=demo,debug-threads=on',
      '-pidfile',
      '/srv/vmkit/run/qemu.pid',
      '-chardev',
      'socket,id=vmkit-qmp,path=/srv/vmkit/run/qmp.sock,server=off',
      '-mon',
      'chardev=vmkit-qmp,mode=control',
      '-machine',
      'q35,accel=tcg',
    ]);
  });

  test('argv() escapes commas in runtime socket paths', () => {
    const c = { ...ctx, paths: { ...ctx.paths, qmpSocket: '/run/a,server=on/qmp.sock' } };
    assert.deepEqual(valuesOf(buildArgv(baseSpec(), c), '-chardev')[0], 'socket,id=vmkit-qmp,path=/run/a,,server=on/qmp.sock,server=off');
  });

  test('argv() uses the resolved accelerator from the context', () => {
    assert.deepEqual(valuesOf(buildArgv(baseSpec(), { ...ctx, accel: 'kvm' }), '-machine'), ['q35,accel=kvm']);
  });

  test('argv() connects the serial port to the console socket only in console mode', () => {
    const on = buildArgv(baseSpec(), ctx);
    assert.deepEqual(valuesOf(on, '-serial'), ['chardev:vmkit-console']);
    assert.ok(valuesOf(on, '-chardev').includes('socket,id=vmkit-console,path=/srv/vmkit/run/console.sock,server=off'));
    const off = buildArgv(spec({ serial: { mode: 'none' } }), ctx);
    assert.deepEqual(valuesOf(off, '-serial'), []);
    assert.equal(valuesOf(off, '-chardev').length, 1);
  });

  test('argv() rejects a NUL character anywhere', () => {
    assert.throws(() => buildArgv(spec({ qemuArgs: ['-foo', 'a\0'] }), ctx), /NUL/);
  });
});

describe('buildArgv disks', () => {
  test('argv() doubles commas in disk paths so the path stays one filename', () => {
    const argv = buildArgv(spec({ disks: [disk('/srv', 'disk0', { format: 'raw', path: '/img/a,file=/etc/shadow' })] }), ctx);
    assert.equal(valuesOf(argv, '-blockdev')[0], 'driver=file,node-name=disk0-file,filename=/img/a,,file=/etc/shadow');
  });

  test('argv() keeps "=", spaces, quotes and newlines inside one filename value', () => {
    const path = `/img/x=1 "two" 'three'\nfour,format=qcow2`;
    const argv = buildArgv(spec({ disks: [disk('/srv', 'disk0', { format: 'raw', path })] }), ctx);
    const file = valuesOf(argv, '-blockdev')[0] as string;
    assert.equal(file, `driver=file,node-name=disk0-file,filename=/img/x=1 "two" 'three'\nfour,,format=qcow2`);
    // Splitting the way QEMU does yields exactly three options, the last one being the whole path.
    const parts = file.split(/(?<!,),(?!,)/);
    assert.equal(parts.length, 3);
  });

  test('argv() opens paths under /dev with the host_device or host_cdrom driver', () => {
    const disks = [
      disk('/srv', 'd0', { path: '/dev/vg0/lv,x', format: 'raw' }),
      disk('/srv', 'cd0', { path: '/dev/sr0', format: 'raw', media: 'cdrom', bus: 'sata' }),
      disk('/srv', 'd1', { path: '/dev/shm/scratch.img', format: 'raw' }),
      disk('/srv', 'd2', { path: '/devices/x.img', format: 'raw' }),
    ];
    const files = valuesOf(buildArgv(spec({ disks }), ctx), '-blockdev').filter((b) => b.includes('-file,filename'));
    assert.deepEqual(
      files.map((b) => b.split(',node-name')[0]),
      ['driver=host_device', 'driver=host_cdrom', 'driver=file', 'driver=file'],
    );
    assert.ok(files[0]?.endsWith('filename=/dev/vg0/lv,,x'));
  });

  test('argv() gives every disk format node an explicit driver', () => {
    const formats = ['raw', 'qcow2', 'vmdk', 'vdi', 'vhdx', 'vpc', 'qed', 'qcow'] as const;
    const argv = buildArgv(spec({ disks: formats.map((format, i) => disk('/srv', `d${i}`, { format })) }), ctx);
    const fmtNodes = valuesOf(argv, '-blockdev').filter((b) => b.includes('-fmt,'));
    assert.deepEqual(
      fmtNodes.map((b) => /^driver=([^,]+),/.exec(b)?.[1]),
      [...formats],
    );
  });

  test('argv() attaches each device to its format node', () => {
    const names = diskNodeNames('disk0');
    assert.deepEqual(names, { file: 'disk0-file', format: 'disk0-fmt', device: 'disk0' });
    const argv = buildArgv(spec({ disks: [disk('/srv', 'disk0')] }), ctx);
    assert.deepEqual(valuesOf(argv, '-device'), ['virtio-blk-pci,drive=disk0-fmt,id=disk0']);
  });

  test('argv() escapes commas in a disk serial', () => {
    const argv = buildArgv(spec({ disks: [disk('/srv', 'disk0', { serial: 'a,drive=x' })] }), ctx);
    assert.deepEqual(valuesOf(argv, '-device'), ['virtio-blk-pci,drive=disk0-fmt,id=disk0,serial=a,,drive=x']);
  });

  test('argv() makes CD-ROMs read-only on both nodes', () => {
    const argv = buildArgv(spec({ disks: [disk('/srv', 'cd0', { media: 'cdrom', bus: 'sata', readonly: false })] }), ctx);
    assert.ok(valuesOf(argv, '-blockdev').every((b) => b.endsWith(',read-only=on')));
    assert.deepEqual(valuesOf(argv, '-device'), ['ide-cd,bus=ide.0,drive=cd0-fmt,id=cd0']);
  });

  test('argv() shares the six q35 AHCI ports between sata and ide disks', () => {
    const disks = ['sata', 'ide', 'sata'].map((bus, i) => disk('/srv', `d${i}`, { bus: bus as 'sata' | 'ide' }));
    const argv = buildArgv(spec({ disks }), ctx);
    assert.deepEqual(
      valuesOf(argv, '-device').map((d) => /bus=([^,]+)/.exec(d)?.[1]),
      ['ide.0', 'ide.1', 'ide.2'],
    );
    const seven = Array.from({ length: 7 }, (_, i) => disk('/srv', `d${i}`, { bus: 'sata' }));
    assertConfigError(() => buildArgv(spec({ disks: seven }), ctx), 'disks[6].bus');
  });

  test('argv() puts pc ide disks on two buses with two units each, and rejects a fifth', () => {
    const disks = Array.from({ length: 4 }, (_, i) => disk('/srv', `d${i}`, { bus: 'ide' }));
    const argv = buildArgv(spec({ machine: { type: 'pc-i440fx-7.2', accel: 'auto' }, disks }), ctx);
    assert.deepEqual(
      valuesOf(argv, '-device').map((d) => /bus=[^,]+,unit=\d/.exec(d)?.[0]),
      ['bus=ide.0,unit=0', 'bus=ide.0,unit=1', 'bus=ide.1,unit=0', 'bus=ide.1,unit=1'],
    );
    const five = [...disks, disk('/srv', 'd4', { bus: 'ide' })];
    assertConfigError(() => buildArgv(spec({ machine: { type: 'pc', accel: 'auto' }, disks: five }), ctx), 'disks[4].bus');
  });

  test('argv() adds one AHCI controller for sata disks on pc', () => {
    const disks = [disk('/srv', 'd0', { bus: 'sata' }), disk('/srv', 'd1', { bus: 'sata' })];
    const devices = valuesOf(buildArgv(spec({ machine: { type: 'pc', accel: 'auto' }, disks }), ctx), '-device');
    assert.deepEqual(devices.filter((d) => d.startsWith('ahci')), ['ahci,id=ahci0']);
    assert.deepEqual(
      devices.slice(1).map((d) => /bus=([^,]+)/.exec(d)?.[1]),
      ['ahci0.0', 'ahci0.1'],
    );
  });

  test('argv() gives the shared scsi controller the iothread of its disks', () => {
    const disks = [disk('/srv', 'd0', { bus: 'scsi' }), disk('/srv', 'd1', { bus: 'scsi', iothread: 'io1' })];
    const devices = valuesOf(buildArgv(spec({ iothreads: ['io1'], disks }), ctx), '-device');
    assert.equal(devices[0], 'virtio-scsi-pci,id=scsi0,iothread=io1');
    assert.ok(devices.slice(1).every((d) => !d.includes('iothread')));
  });

  test('argv() rejects what the machine or bus cannot do', () => {
    assertConfigError(() => buildArgv(spec({ disks: [disk('/srv', 'd0', { media: 'cdrom' })] }), ctx), 'disks[0].media');
    const microvm = { type: 'microvm', accel: 'auto' } as const;
    assertConfigError(() => buildArgv(spec({ machine: microvm, disks: [disk('/srv', 'd0', { bus: 'ide' })] }), ctx), 'disks[0].bus');
    assertConfigError(() => buildArgv(spec({ disks: [disk('/srv', 'd0', { aio: 'native', cache: 'writeback' })] }), ctx), 'disks[0].aio');
    assertConfigError(() => buildArgv(spec({ disks: [disk('/srv', 'd0', { format: 'luks' })] }), ctx), 'disks[0].format');
  });

  test('argv() names the definition file in the problem it throws', () => {
    assert.throws(
      () => buildArgv(spec({ disks: [disk('/srv', 'd0', { media: 'cdrom' })] }), ctx),
      (e: unknown) => e instanceof ConfigError && e.problems[0]?.file === '/srv/vmkit/demo.yaml',
    );
  });
});

describe('buildArgv boot', () => {
  test('argv() passes the kernel command line unescaped as one argument', () => {
    const argv = buildArgv(spec({ boot: { kind: 'kernel', kernel: '/k,1', cmdline: 'console=ttyS0,115200 a=b' } }), ctx);
    assert.deepEqual(valuesOf(argv, '-kernel'), ['/k,1']);
    assert.deepEqual(valuesOf(argv, '-append'), ['console=ttyS0,115200 a=b']);
  });

  test('argv() numbers boot devices from the firmware boot order', () => {
    const argv = buildArgv(
      spec({
        boot: { kind: 'firmware', order: ['network', 'cdrom', 'disk'] },
        disks: [disk('/srv', 'hd', {}), disk('/srv', 'cd', { media: 'cdrom', bus: 'scsi' })],
        nics: [{ kind: 'user', id: 'net0', model: 'virtio', forwards: [] }],
      }),
      ctx,
    );
    const idx = Object.fromEntries(valuesOf(argv, '-device').flatMap((d) => {
      const m = /(?:^|,)id=([^,]+).*bootindex=(\d+)/.exec(d);
      return m === null ? [] : [[m[1], Number(m[2])]];
    }));
    assert.deepEqual(idx, { net0: 1, cd: 2, hd: 3 });
  });

  test('argv() uses explicit disk boot indexes instead of the boot order', () => {
    const argv = buildArgv(
      spec({
        boot: { kind: 'firmware', order: ['network'] },
        disks: [disk('/srv', 'a', { bootIndex: 5 }), disk('/srv', 'b')],
        nics: [{ kind: 'user', id: 'net0', model: 'virtio', forwards: [] }],
      }),
      ctx,
    );
    assert.deepEqual(valuesOf(argv, '-device').filter((d) => d.includes('bootindex')), ['virtio-blk-pci,drive=a-fmt,id=a,bootindex=5']);
  });

  test('argv() tells a microvm TCG guest the TSC rate, unless its command line already does', () => {
    const microvm = { type: 'microvm', accel: 'auto' } as const;
    const s = spec({ machine: microvm, boot: { kind: 'kernel', kernel: '/k', cmdline: 'console=ttyS0' } });
    assert.deepEqual(valuesOf(buildArgv(s, { ...ctx, hostTscKHz: 2400000.4 }), '-append'), ['console=ttyS0 tsc_early_khz=2400000']);
    assert.deepEqual(valuesOf(buildArgv(s, { ...ctx, accel: 'kvm', hostTscKHz: 2400000 }), '-append'), ['console=ttyS0']);
    assert.deepEqual(valuesOf(buildArgv(s, ctx), '-append'), ['console=ttyS0']);
    const own = spec({ machine: microvm, boot: { kind: 'kernel', kernel: '/k', cmdline: 'tsc_early_khz=1000' } });
    assert.deepEqual(valuesOf(buildArgv(own, { ...ctx, hostTscKHz: 2400000 }), '-append'), ['tsc_early_khz=1000']);
    const none = spec({ machine: microvm, boot: { kind: 'kernel', kernel: '/k' } });
    assert.deepEqual(valuesOf(buildArgv(none, { ...ctx, hostTscKHz: 2400000 }), '-append'), ['tsc_early_khz=2400000']);
  });
});

describe('buildArgv memory, network, display', () => {
  test('argv() compresses CPU sets into ranges', () => {
    assert.deepEqual(cpuRanges([5, 0, 1, 2, 7, 8]), ['0-2', '5', '7-8']);
    assert.deepEqual(cpuRanges([]), []);
  });

  test('argv() binds one memory backend to the host nodes for numa tuning without cells', () => {
    const argv = buildArgv(spec({ numaTune: { mode: 'interleave', hostNodes: [0, 1, 3] } }), ctx);
    assert.deepEqual(valuesOf(argv, '-object'), ['memory-backend-ram,id=vmkit-ram,size=128M,host-nodes=0-1,host-nodes=3,policy=interleave']);
    assert.deepEqual(valuesOf(argv, '-machine'), ['q35,accel=tcg,memory-backend=vmkit-ram']);
  });

  test('argv() escapes the hugepages mount path', () => {
    const argv = buildArgv(spec({ memoryBacking: { hugepages: { path: '/mnt/h,share=on' }, prealloc: false, locked: false } }), ctx);
    assert.deepEqual(valuesOf(argv, '-object'), ['memory-backend-file,id=vmkit-ram,mem-path=/mnt/h,,share=on,size=128M']);
  });

  test('argv() listens on loopback for forwards without a host address', () => {
    const argv = buildArgv(
      spec({ nics: [{ kind: 'user', id: 'net0', model: 'virtio', forwards: [{ protocol: 'tcp', hostPort: 2222, guestPort: 22 }] }] }),
      ctx,
    );
    assert.deepEqual(valuesOf(argv, '-netdev'), ['user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22']);
  });

  test('argv() escapes a tap interface name', () => {
    const argv = buildArgv(spec({ nics: [{ kind: 'tap', id: 'net0', model: 'virtio', ifname: 'tap0,script=/x' }] }), ctx);
    assert.deepEqual(valuesOf(argv, '-netdev'), ['tap,id=net0,ifname=tap0,,script=/x,script=no,downscript=no']);
  });

  test('argv() rejects non-virtio NICs and VNC on microvm', () => {
    const microvm = { type: 'microvm', accel: 'auto' } as const;
    assertConfigError(() => buildArgv(spec({ machine: microvm, nics: [{ kind: 'user', id: 'n', model: 'e1000', forwards: [] }] }), ctx), 'nics[0].model');
    assertConfigError(() => buildArgv(spec({ machine: microvm, graphics: { type: 'vnc', listen: '127.0.0.1', display: 0 } }), ctx), 'graphics.type');
  });

  test('argv() brackets an IPv6 VNC listen address and drops -display none', () => {
    const argv = buildArgv(spec({ graphics: { type: 'vnc', listen: '::1', display: 3 } }), ctx);
    assert.deepEqual(valuesOf(argv, '-vnc'), ['[::1]:3']);
    assert.deepEqual(valuesOf(argv, '-display'), []);
  });
});

describe('buildArgv escape hatch and qemu-launcher specs', () => {
  test('argv() appends qemuArgs last and verbatim', () => {
    const argv = buildArgv(spec({ disks: [disk('/srv', 'd0')], qemuArgs: ['-device', 'a,b=c,,d', '-S'] }), ctx);
    assert.deepEqual(argv.slice(-3), ['-device', 'a,b=c,,d', '-S']);
  });

  const launcher = (raw: NonNullable<DomainSpec['rawOptions']>, over: Partial<DomainSpec> = {}): DomainSpec =>
    spec({ name: 'lvm', rawOptions: raw, source: { format: 'qemu-launcher' }, ...over });

  test('argv() passes qemu-launcher options in order after the control options, without -nodefaults or console', () => {
    const argv = buildArgv(
      launcher([{ name: 'm', value: '512' }, { name: 'nographic' }, { name: 'device', value: 'virtio-rng-pci' }], { qemuArgs: ['-snapshot'] }),
      ctx,
    );
    assert.deepEqual(argv.slice(10), ['-m', '512', '-nographic', '-device', 'virtio-rng-pci', '-snapshot']);
    assert.ok(!argv.includes('-nodefaults'));
    assert.ok(!argv.includes('-display'));
    assert.deepEqual(valuesOf(argv, '-chardev').length, 1);
  });

  test('argv() merges a raw name option into the one -name', () => {
    const name = (raw: NonNullable<DomainSpec['rawOptions']>) => valuesOf(buildArgv(launcher(raw), ctx), '-name');
    assert.deepEqual(name([{ name: 'name', value: 'my vm' }]), ['guest=my vm,debug-threads=on']);
    assert.deepEqual(name([{ name: 'name', value: 'a,,b' }]), ['guest=a,,b,debug-threads=on']);
    assert.deepEqual(name([{ name: 'name', value: 'guest=web,process=qemu-web' }]), ['guest=web,process=qemu-web,debug-threads=on']);
    assert.deepEqual(name([{ name: 'name', value: 'guest=web,debug-threads=off' }]), ['guest=web,debug-threads=off']);
    assert.deepEqual(name([{ name: 'name', value: 'process=p' }]), ['guest=lvm,process=p,debug-threads=on']);
    assert.deepEqual(name([{ name: 'm', value: '64' }]), ['guest=lvm,debug-threads=on']);
  });
});

describe('describeArgv', () => {
  test('describeArgv() prints one argument per line', () => {
    assert.equal(describeArgv(['-S', '-name', 'guest=a b']), '-S\n-name\nguest=a b\n');
    assert.equal(describeArgv([]), '');
  });

  test('describeArgv() writes arguments that would break the listing as JSON strings, and parses back', () => {
    const argv = ['', 'a\nb', ' lead', 'trail ', '"quoted"', 'tab\there', 'plain "inner"'];
    const text = describeArgv(argv);
    assert.equal(text, '""\n"a\\nb"\n" lead"\n"trail "\n"\\"quoted\\""\n"tab\\there"\nplain "inner"\n');
    assert.deepEqual(parseDescribedArgv(text), argv);
  });
});
