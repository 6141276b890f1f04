import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { VmkitError } from '../../src/errors.js';
import { CapsCache, guestAccels, probeQemu, type ProbeFn, type QemuCaps } from '../../src/host/caps/index.js';
import { devKvm, kvmOpens } from '../helpers/kvm.js';
import { tempDir } from './helpers.js';

/** Processes whose command line mentions `needle` (QEMU probes carry their socket directory). */
async function processesMentioning(needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (cmd.includes(needle) && state !== 'Z') out.push(Number(pid));
  }
  return out;
}

// One real probe, shared by the tests that only read its result.
let shared: Promise<QemuCaps> | undefined;
function realCaps(tmpDir: string): Promise<QemuCaps> {
  shared ??= probeQemu('/usr/bin/qemu-system-x86_64', { tmpDir });
  return shared;
}

test('a real probe of qemu-system-x86_64 reads version, KVM, accelerators, machines, CPU models, devices and backends', async (t) => {
  const dir = await tempDir(t);
  const caps = await realCaps(dir);
  assert.equal(caps.binary, '/usr/bin/qemu-system-x86_64');
  assert.equal(caps.version.major, 7);
  assert.equal(caps.arch, 'x86_64');
  assert.equal(caps.kvm.present, true);
  // KVM is enabled exactly when /dev/kvm really opens here (read independently); TCG is the fallback.
  const kvm = kvmOpens();
  assert.equal(caps.kvm.enabled, kvm, `/dev/kvm is ${devKvm()} here`);
  assert.equal(caps.probeAccel, kvm ? 'kvm' : 'tcg');
  assert.deepEqual(caps.accels.filter((a) => a === 'kvm' || a === 'tcg'), ['kvm', 'tcg']);
  const q35 = caps.machines.find((m) => m.alias === 'q35');
  assert.match(q35?.name ?? '', /^pc-q35-\d+\.\d+$/);
  assert.equal(caps.machines.find((m) => m.isDefault)?.alias, 'pc');
  assert.equal(caps.defaultMachine, caps.machines.find((m) => m.alias === 'pc')?.name);
  assert.ok(caps.machines.some((m) => m.name === 'microvm'));
  for (const cpu of ['host', 'max', 'qemu64']) assert.ok(caps.cpuModels.some((c) => c.name === cpu), cpu);
  const bus = (name: string): string | undefined => caps.devices.find((d) => d.name === name)?.bus;
  assert.equal(bus('virtio-blk-pci'), 'pci');
  assert.equal(bus('virtio-blk-device'), 'virtio');
  assert.equal(bus('scsi-hd'), 'scsi');
  assert.equal(bus('ide-hd'), 'ide');
  assert.equal(bus('usb-tablet'), 'usb');
  assert.equal(bus('isa-serial'), 'isa');
  for (const o of ['iothread', 'memory-backend-ram', 'memory-backend-file']) assert.ok(caps.objects.includes(o), o);
  for (const c of ['socket', 'pty', 'file']) assert.ok(caps.chardevBackends.includes(c), c);
  for (const n of ['user', 'tap']) assert.ok(caps.netdevBackends.includes(n), n);
  assert.ok(!caps.netdevBackends.includes('nic') && !caps.netdevBackends.includes('none'));
  assert.ok(caps.probe.ms > 0 && caps.probe.ms < 20_000);
});

const MICROVM = '/usr/bin/qemu-system-x86_64-microvm';

test('the KVM-only microvm build probes with or without KVM: under qtest when /dev/kvm cannot be used, and then no accelerator can run a guest', async (t) => {
  assert.ok(existsSync(MICROVM), `${MICROVM} is missing: Debian's qemu-system-x86 ships it (scripts/setup.sh installs that package)`);
  const dir = await tempDir(t);
  const caps = await probeQemu(MICROVM, { tmpDir: dir });
  assert.equal(caps.binary, MICROVM);
  assert.equal(caps.arch, 'x86_64');
  assert.deepEqual(caps.accels, ['kvm', 'qtest'], 'built with KVM only (and the qtest harness)');
  const kvm = kvmOpens();
  assert.equal(caps.kvm.enabled, kvm, `/dev/kvm is ${devKvm()} here`);
  assert.equal(caps.probeAccel, kvm ? 'kvm' : 'qtest');
  assert.deepEqual(guestAccels(caps), kvm ? ['kvm'] : []);
  assert.ok(caps.machines.some((m) => m.name === 'microvm' && m.isDefault));
  assert.deepEqual(await readdir(dir), []);
});

test('QEMU dying before its greeting is reported with its own stderr, not as a closed monitor', async (t) => {
  const dir = await tempDir(t);
  // A QEMU that connects its monitor, then fails the way a machine set-up does: it hangs up and exits.
  const fake = join(dir, 'dying-qemu');
  await writeFile(
    fake,
    [
      '#!/usr/bin/env node',
      "const net = require('node:net');",
      "const arg = process.argv.find((a) => a.startsWith('socket,'));",
      "const path = /path=([^,]*)/.exec(arg)[1];",
      "const s = net.connect(path, () => { process.stderr.write('qemu-system-x86_64: failed to initialize kvm: No such file or directory\\n'); s.destroy(); setTimeout(() => process.exit(1), 50); });",
    ].join('\n'),
  );
  await chmod(fake, 0o755);
  const sockets = await tempDir(t);
  await assert.rejects(probeQemu(fake, { tmpDir: sockets, timeoutMs: 10_000 }), (e: unknown) => {
    assert.ok(e instanceof VmkitError);
    assert.equal(e.code, 'QemuFailed');
    assert.match(e.message, /^Cannot probe \S+dying-qemu: QEMU exited before its QMP greeting: qemu-system-x86_64: failed to initialize kvm: No such file or directory$/);
    return true;
  });
  assert.deepEqual(await readdir(sockets), []);
});

test('a probe leaves no QEMU process and no socket directory behind', async (t) => {
  const dir = await tempDir(t);
  await realCaps(dir);
  const own = await tempDir(t);
  await probeQemu('/usr/bin/qemu-system-x86_64', { tmpDir: own });
  assert.deepEqual(await readdir(own), []);
  assert.deepEqual(await processesMentioning(own), []);
});

test('two concurrent look-ups of a cold cache start one QEMU process', async (t) => {
  const dir = await tempDir(t);
  let spawned = 0;
  const probe: ProbeFn = (binary, opts) => {
    spawned++;
    return probeQemu(binary, { ...opts, tmpDir: dir });
  };
  const cache = new CapsCache({ cacheDir: join(dir, 'cache'), probe });
  const [a, b] = await Promise.all([cache.lookup('qemu-system-x86_64'), cache.lookup('/usr/bin/qemu-system-x86_64')]);
  assert.equal(spawned, 1);
  assert.equal(a, b);
  assert.equal(cache.stats.probes, 1);
});

test('a binary that is not QEMU fails with QemuFailed naming it', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(probeQemu('/bin/false', { tmpDir: dir, timeoutMs: 10_000 }), (e: unknown) => {
    assert.ok(e instanceof VmkitError);
    assert.equal(e.code, 'QemuFailed');
    assert.match(e.message, /Cannot probe \/bin\/false: QEMU exited before its QMP greeting/);
    return true;
  });
  assert.deepEqual(await readdir(dir), []);
});

test('an aborted probe kills the process it started and cleans up', async (t) => {
  const dir = await tempDir(t);
  // A stand-in for a QEMU that hangs before connecting its monitor; its command line carries the socket path.
  const hung = join(dir, 'hung-qemu');
  await writeFile(hung, '#!/bin/sh\nwhile :; do sleep 0.05; done\n');
  await chmod(hung, 0o755);
  const sockets = await tempDir(t);
  const ac = new AbortController();
  const p = probeQemu(hung, { tmpDir: sockets, signal: ac.signal });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await processesMentioning(sockets)).length, 1, 'the probe process runs');
  ac.abort();
  await assert.rejects(p, (e: unknown) => e instanceof VmkitError && e.code === 'Aborted');
  assert.deepEqual(await processesMentioning(sockets), []);
  assert.deepEqual(await readdir(sockets), []);
});

test('a probe that exceeds its time bound rejects with Timeout', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(probeQemu('/usr/bin/qemu-system-x86_64', { tmpDir: dir, timeoutMs: 1 }), (e: unknown) => e instanceof VmkitError && e.code === 'Timeout');
  assert.deepEqual(await processesMentioning(dir), []);
});
