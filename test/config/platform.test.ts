/**
 * Domain-level settings (title/description, lifecycle, features, clock, CPU flags and hotplug, pflash
 * firmware): native YAML resolution and its problems at line:col, the argv they give, and what libvirt XML
 * imports them as. The YAML ≡ XML argv equivalence lives in libvirt-golden.test.ts (platform, pflash).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDefinition, parseLibvirtXml, validateDefinition } from '../../src/config/index.js';
import { ConfigError, formatProblem } from '../../src/errors.js';
import type { DomainSpec } from '../../src/model/domain.js';
import { buildArgv } from '../../src/qemu/argv/index.js';
import { rtcBase } from '../../src/qemu/argv/clock.js';
import { argvContext, baseSpec } from '../qemu/fixtures.js';
import { where } from './helpers.js';

function yaml(text: string): DomainSpec {
  return parseDefinition(`name: t\n${text}`, { file: 'vm.yaml', baseDir: '/defs' });
}

function problems(text: string): string[] {
  return validateDefinition(`name: t\n${text}`, { file: 'vm.yaml', baseDir: '/defs' }).map((p) => `${where(p)} ${p.message}`);
}

function xml(body: string, features = '<features><acpi/></features>'): DomainSpec {
  const os = body.includes('<os>') ? '' : "<os><type machine='q35'>hvm</type></os>";
  const r = parseLibvirtXml(`<domain type='kvm'><name>t</name><memory unit='MiB'>256</memory>${os}${features}${body}</domain>`, {
    file: 'd.xml',
    baseDir: '/defs',
  });
  assert.deepEqual(r.problems.map(formatProblem), []);
  assert.ok(r.spec !== undefined);
  return r.spec;
}

function argvOf(spec: DomainSpec): string[] {
  return buildArgv(spec, argvContext());
}

function after(argv: readonly string[], option: string): string | undefined {
  const i = argv.indexOf(option);
  return i < 0 ? undefined : argv[i + 1];
}

describe('native YAML', () => {
  test('the defaults leave every new field out of the spec and the command line as it was', () => {
    const s = yaml('features: {acpi: true}\nclock: {offset: utc}\n');
    for (const key of ['title', 'description', 'lifecycle', 'features', 'clock'] as const) assert.equal(s[key], undefined, key);
    assert.equal(after(argvOf(s), '-machine'), 'q35,accel=tcg');
    assert.equal(argvOf(s).includes('-rtc'), false);
  });

  test('title and description are kept, with no effect on QEMU', () => {
    const s = yaml('title: Web, front\ndescription: "line 1\\nline 2"\n');
    assert.equal(s.title, 'Web, front');
    assert.equal(s.description, 'line 1\nline 2');
    assert.deepEqual(argvOf(s), argvOf(yaml('')));
  });

  test('lifecycle: keys not given take the defaults', () => {
    assert.deepEqual(yaml('lifecycle: {on_crash: preserve}\n').lifecycle, { onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'preserve' });
  });

  test('cpu.max_vcpus: the topology covers max_vcpus; -smp N,maxcpus=M', () => {
    const s = yaml('cpu: {vcpus: 2, max_vcpus: 8, sockets: 2, threads: 2}\n');
    assert.deepEqual(s.cpu, { vcpus: 2, maxVcpus: 8, sockets: 2, cores: 2, threads: 2 });
    assert.equal(after(argvOf(s), '-smp'), '2,maxcpus=8,sockets=2,cores=2,threads=2');
    assert.deepEqual(yaml('cpu: {vcpus: 4, max_vcpus: 4}\n').cpu, { vcpus: 4, sockets: 1, cores: 4, threads: 1 }, 'max = vcpus is no hotplug');
  });

  test('cpu.features and kvmclock become -cpu flags in order', () => {
    const s = yaml('cpu: {model: host, features: {vmx: false, "sse4.2": true, 3dnowprefetch: false}}\nclock: {timers: {kvmclock: {present: false}}}\n');
    assert.equal(after(argvOf(s), '-cpu'), 'host,vmx=off,sse4.2=on,3dnowprefetch=off,kvmclock=off');
  });

  test('features.acpi false is -machine acpi=off; clock options', () => {
    const s = yaml('features: {acpi: false}\nclock: {offset: localtime, timers: {rtc: {tickpolicy: catchup}, pit: {tickpolicy: discard}, hpet: {present: false}}}\n');
    const argv = argvOf(s);
    assert.equal(after(argv, '-machine'), 'q35,accel=tcg,acpi=off,hpet=off');
    assert.equal(after(argv, '-rtc'), 'base=localtime,driftfix=slew');
    assert.equal(after(argv, '-global'), 'kvm-pit.lost_tick_policy=discard');
    const catchup = argvOf(yaml('clock: {timers: {pit: {tickpolicy: catchup}}}\n'));
    assert.equal(catchup.includes('-global'), false, "catchup is KVM's own PIT default: nothing to pass");
  });

  test('clock offset variable: basis + adjustment at the start time, in QEMU\'s datetime format', () => {
    const now = new Date('2026-03-04T05:06:07.890Z');
    assert.equal(rtcBase({ offset: 'variable', adjustment: 3600 }, now), '2026-03-04T06:06:07');
    assert.equal(rtcBase({ offset: 'variable', adjustment: -86400 }, now), '2026-03-03T05:06:07');
    const local = new Date(now.getTime() - now.getTimezoneOffset() * 60_000 + 10_000).toISOString().slice(0, 19);
    assert.equal(rtcBase({ offset: 'variable', adjustment: 10, basis: 'localtime' }, now), local);
    assert.equal(rtcBase({ offset: 'utc' }, now), undefined);
  });

  test('boot.pflash: relative paths resolved, readonly by default; flash images are raw nodes tied to -machine', () => {
    const s = yaml('boot: {pflash: {code: fw/CODE.fd, vars: vm_VARS.fd, vars_template: /usr/share/OVMF/OVMF_VARS.fd}}\n');
    assert.deepEqual(s.boot, { kind: 'firmware', pflash: { code: '/defs/fw/CODE.fd', readonly: true, vars: '/defs/vm_VARS.fd', varsTemplate: '/usr/share/OVMF/OVMF_VARS.fd' }, order: [] });
    const argv = argvOf(s);
    assert.equal(after(argv, '-machine'), 'q35,accel=tcg,pflash0=vmkit-pflash0,pflash1=vmkit-pflash1');
    assert.ok(argv.includes('driver=raw,node-name=vmkit-pflash0,file=vmkit-pflash0-file,read-only=on'));
    assert.ok(argv.includes('driver=raw,node-name=vmkit-pflash1,file=vmkit-pflash1-file'));
    assert.equal(argv.includes('-bios'), false);
  });

  test('bad values are reported at their line:col', () => {
    assert.deepEqual(problems('lifecycle: {on_reboot: preserve}\n'), ['2:24 lifecycle.on_reboot Unsupported value']);
    assert.deepEqual(problems('title: "two\\nlines"\n'), ['2:8 title Invalid value']);
    assert.deepEqual(problems('cpu: {model: host, features: {VMX: true}}\n'), ['2:31 cpu.features.VMX Invalid key `VMX`']);
    assert.match(problems('cpu: {features: {vmx: true}}\n').join(), /^2:17 cpu.features CPU features are switched on top of a CPU model/);
    assert.match(problems('cpu: {vcpus: 4, max_vcpus: 2}\n').join(), /^2:14 cpu.vcpus vcpus \(4\) is more than max_vcpus \(2\)/);
    assert.match(problems('clock: {adjustment: 60}\n').join(), /^2:21 clock.adjustment adjustment only applies to offset: variable/);
    assert.match(problems('clock: {timers: {kvmclock: {present: false}}}\n').join(), /^2:28 clock.timers.kvmclock Hiding kvmclock .* set cpu.model/);
    assert.match(problems('boot: {firmware: /bios.bin, pflash: {code: /c.fd}}\n').join(), /^2:29 boot.pflash boot.firmware \(a ROM image, -bios\) and boot.pflash/);
    assert.match(problems('boot: {pflash: {code: /c.fd, vars_template: /t.fd}}\n').join(), /^2:45 boot.pflash.vars_template vars_template is copied to vars/);
    assert.match(problems('clock: {timers: {rtc: {tickpolicy: merge}}}\n').join(), /^2:36 clock.timers.rtc.tickpolicy/);
  });

  test('current_memory: a balloon target below memory, which needs the balloon', () => {
    assert.equal(yaml('memory: 1G\ncurrent_memory: 768M\nballoon: true\n').currentMemoryMiB, 768);
    assert.equal(yaml('memory: 1G\ncurrent_memory: 1G\n').currentMemoryMiB, undefined, 'equal to memory: no target');
    assert.deepEqual(argvOf(yaml('memory: 1G\ncurrent_memory: 768M\nballoon: true\n')), argvOf(yaml('memory: 1G\nballoon: true\n')), 'set over QMP, not on the command line');
    assert.match(problems('memory: 1G\ncurrent_memory: 2G\nballoon: true\n').join(), /^3:17 current_memory current_memory is more than the guest's memory/);
    assert.match(problems('memory: 1G\ncurrent_memory: 512M\n').join(), /^3:17 current_memory A memory target below memory is set through the balloon/);
  });

  test('what the machine cannot have is refused when the command line is built', () => {
    const micro: DomainSpec = { ...baseSpec(), machine: { type: 'microvm', accel: 'auto' } };
    const pflash: DomainSpec = { ...micro, boot: { kind: 'firmware', pflash: { code: '/c.fd', readonly: true }, order: [] } };
    assert.throws(() => argvOf(pflash), (e: unknown) => e instanceof ConfigError && /needs a pc or q35 machine/.test(e.message));
    assert.throws(() => argvOf({ ...micro, clock: { offset: 'utc', hpet: false } }), (e: unknown) => e instanceof ConfigError && /microvm has no HPET/.test(e.message));
    const bad: DomainSpec = { ...baseSpec(), cpu: { ...baseSpec().cpu, model: 'host', features: [{ name: 'a,b', enabled: true }] } };
    assert.throws(() => argvOf(bad), (e: unknown) => e instanceof ConfigError && /Not a QEMU CPU feature name/.test(e.message));
  });
});

describe('libvirt XML', () => {
  test('no <acpi/> means no ACPI, as in libvirt; <apic/> and <pae/> change nothing', () => {
    assert.deepEqual(xml('', '').features, { acpi: false });
    assert.deepEqual(xml('', '<features><apic/><pae/></features>').features, { acpi: false });
    assert.equal(xml('', '<features><acpi/><apic/><pae/></features>').features, undefined);
    assert.equal(after(argvOf(xml('', '')), '-machine'), 'q35,accel=tcg,acpi=off');
    const r = parseLibvirtXml("<domain type='kvm'><name>t</name><memory>65536</memory><os><type>hvm</type></os></domain>", { file: 'd.xml', baseDir: '/' });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.warnings.map((w) => `${w.line}:${w.col} ${w.path}`), ['1:1 /domain'], 'a warning says what that means');
    assert.match(r.warnings[0]?.message ?? '', /No <acpi\/> in <features>: as in libvirt, this guest has no ACPI/);
  });

  test('<vcpu current> below the maximum, with a topology that covers the maximum', () => {
    assert.deepEqual(xml("<vcpu current='1'>4</vcpu><cpu><topology sockets='1' cores='2' threads='2'/></cpu>").cpu, { vcpus: 1, maxVcpus: 4, sockets: 1, cores: 2, threads: 2 });
    assert.deepEqual(xml("<vcpu current='2'>3</vcpu>").cpu, { vcpus: 2, maxVcpus: 3, sockets: 3, cores: 1, threads: 1 }, 'a socket per possible vCPU');
  });

  test('<feature> policies: require/force on, disable/forbid off; kvmclock present=no on the same -cpu', () => {
    const s = xml(
      "<cpu mode='host-passthrough'><feature policy='force' name='vmx'/><feature policy='forbid' name='svm'/></cpu><clock offset='utc'><timer name='kvmclock' present='no'/></clock>",
    );
    assert.deepEqual(s.cpu.features, [{ name: 'vmx', enabled: true }, { name: 'svm', enabled: false }]);
    assert.equal(after(argvOf(s), '-cpu'), 'host,vmx=on,svm=off,kvmclock=off');
  });

  test('<clock offset=variable adjustment basis> and timers', () => {
    assert.deepEqual(xml("<clock offset='variable' adjustment='-30' basis='localtime'><timer name='rtc' tickpolicy='delay'/></clock>").clock, {
      offset: 'variable',
      adjustment: -30,
      basis: 'localtime',
      rtcTickPolicy: 'delay',
    });
    assert.equal(xml("<clock offset='utc'><timer name='hpet' present='yes'/></clock>").clock?.hpet, true);
    assert.equal(xml("<clock offset='utc'><timer name='rtc'/></clock>").clock, undefined, 'a timer with nothing set changes nothing');
    const twice = parseLibvirtXml(
      "<domain type='kvm'><name>t</name><memory>65536</memory><os><type>hvm</type></os><features><acpi/></features><clock><timer name='rtc'/><timer name='rtc' tickpolicy='catchup'/></clock></domain>",
      { baseDir: '/' },
    );
    assert.deepEqual(twice.problems.map((p) => `${p.path}: ${p.message}`), ["/domain/clock/timer[2]: The timer 'rtc' is set twice"]);
  });

  test('<currentMemory> below <memory> is the balloon target; it needs a balloon', () => {
    assert.equal(xml("<currentMemory unit='MiB'>192</currentMemory>").currentMemoryMiB, 192);
    const r = parseLibvirtXml(
      "<domain type='kvm'><name>t</name><memory unit='MiB'>256</memory><currentMemory unit='MiB'>128</currentMemory><os><type>hvm</type></os><features><acpi/></features><devices><memballoon model='none'/></devices></domain>",
      { baseDir: '/' },
    );
    assert.deepEqual(r.problems.map((p) => p.path), ['/domain/currentMemory']);
    assert.match(r.problems[0]?.message ?? '', /needs <memballoon model='virtio'>/);
  });

  test('<title> and <description>; an empty title is none', () => {
    const s = xml('<title>Mail</title><description>Postfix &amp; Dovecot</description>');
    assert.equal(s.title, 'Mail');
    assert.equal(s.description, 'Postfix & Dovecot');
    assert.equal(xml('<title/>').title, undefined);
  });

  test('lenient import reads coredump-* crash actions as destroy/restart, with a warning', () => {
    const r = parseLibvirtXml("<domain type='kvm'><name>t</name><memory>65536</memory><os><type>hvm</type></os><features><acpi/></features><on_crash>coredump-restart</on_crash></domain>", {
      baseDir: '/',
      lenient: true,
    });
    assert.deepEqual(r.problems, []);
    assert.equal(r.warnings.length, 1);
    assert.equal(r.spec?.lifecycle?.onCrash, 'restart');
  });

  test('pflash loader: writable unless readonly=yes; nvram template; rom loaders stay -bios', () => {
    const s = xml("<os><type machine='q35'>hvm</type><loader type='pflash'>/fw/OVMF.fd</loader></os>");
    assert.deepEqual(s.boot, { kind: 'firmware', pflash: { code: '/fw/OVMF.fd', readonly: false }, order: ['disk'] });
    const ro = xml("<os><type machine='q35'>hvm</type><loader readonly='yes' type='pflash'>/fw/CODE.fd</loader><nvram template='/fw/VARS.fd'>vm.fd</nvram></os>");
    assert.deepEqual(ro.boot, { kind: 'firmware', pflash: { code: '/fw/CODE.fd', readonly: true, vars: '/defs/vm.fd', varsTemplate: '/fw/VARS.fd' }, order: ['disk'] });
    const rom = xml("<os><type machine='q35'>hvm</type><loader type='rom'>/fw/bios.bin</loader></os>");
    assert.deepEqual(rom.boot, { kind: 'firmware', firmware: '/fw/bios.bin', order: ['disk'] });
  });
});
