import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { VmkitError } from '../../src/errors.js';
import { CapsCache } from '../../src/host/caps/index.js';
import { checksJson, formatChecks, hostValid, validateHost, type CheckResult, type HostValidateOptions } from '../../src/host/validate/index.js';
import { devKvm, expectedKvmCheck, kvmOpens } from '../helpers/kvm.js';
import { countingProbe, fakeBinary, fakeFacts, fixturePath, fixtureText, tempDir } from './helpers.js';

type Ctx = import('node:test').TestContext;

/**
 * A fixture tree for proc/sys/etc/dev, an empty PATH and a fake probe. Git cannot hold device nodes, so
 * `charDevs` (e.g. `kvm`, `net/tun`) are made in a temporary dev directory as links to /dev/null, a character
 * device every machine has: the checks then never depend on this machine's own /dev.
 */
async function inTree(t: Ctx, tree: string, opts: Partial<HostValidateOptions> & { charDevs?: string[] } = {}): Promise<Map<string, CheckResult>> {
  const dir = await tempDir(t);
  const root = fixturePath(tree);
  let dev = join(root, 'dev');
  if (opts.charDevs !== undefined) {
    dev = join(dir, 'dev');
    for (const d of opts.charDevs) {
      await mkdir(dirname(join(dev, d)), { recursive: true });
      await symlink('/dev/null', join(dev, d));
    }
  }
  const results = await validateHost({
    roots: { proc: join(root, 'proc'), sys: join(root, 'sys'), dev, etc: join(root, 'etc'), root },
    env: { PATH: join(dir, 'empty') },
    caps: new CapsCache({ cacheDir: join(dir, 'cache'), probe: countingProbe() }),
    ...opts,
  });
  assert.equal(new Set(results.map((r) => r.id)).size, results.length, 'ids are unique');
  for (const r of results) if (r.status !== 'PASS') assert.ok((r.remedy ?? '') !== '', `${r.id} has a remedy`);
  return new Map(results.map((r) => [r.id, r]));
}

function expectStatus(results: Map<string, CheckResult>, expected: Record<string, string>): void {
  const actual = Object.fromEntries(Object.keys(expected).map((id) => [id, results.get(id)?.status ?? 'absent']));
  assert.deepEqual(actual, expected);
}

test('host validate on this machine: /dev/kvm as this machine has it, QEMU versions from real probes, nothing else fails', async (t) => {
  const dir = await tempDir(t);
  const caps = new CapsCache({ cacheDir: join(dir, 'cache') });
  const results = await validateHost({ caps, timeoutMs: 60_000 });
  const byId = new Map(results.map((r) => [r.id, r]));
  const kvm = expectedKvmCheck();
  assert.equal(byId.get('kvm')?.status, kvm, `/dev/kvm is ${devKvm()} here: ${byId.get('kvm')?.detail ?? ''}`);
  assert.equal(byId.get('tun')?.status, 'PASS');
  assert.equal(byId.get('setpriv')?.status, 'PASS');
  const version = /version (\d+\.\d+\.\d+)/.exec(execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }))?.[1];
  const qemu = results.find((r) => r.id.startsWith('qemu:') && r.id.endsWith('/qemu-system-x86_64'));
  assert.equal(qemu?.status, 'PASS');
  const usable = kvmOpens() ? 'KVM usable' : 'KVM built in but not usable';
  assert.match(qemu?.detail ?? '', new RegExp(`^QEMU ${(version ?? '?').replaceAll('.', '\\.')}, x86_64, ${usable} \\(probed in \\d+ ms\\)$`));
  assert.deepEqual(results.filter((r) => r.status === 'FAIL').map((r) => r.id), kvm === 'FAIL' ? ['kvm'] : [], formatChecks(results));
  assert.equal(hostValid(results), kvm !== 'FAIL');
  // Run again: every version now comes from the cache, no probe.
  const probes = caps.stats.probes;
  const again = await validateHost({ caps: new CapsCache({ cacheDir: join(dir, 'cache'), probe: countingProbe() }) });
  assert.match(again.find((r) => r.id === qemu?.id)?.detail ?? '', /\(cached\)$/);
  assert.ok(probes >= 1);
});

test('an Intel host with cgroup v2, IOMMU, hugepages and unlimited memlock passes those checks', async (t) => {
  const r = await inTree(t, 'tree-intel-v2', { charDevs: ['kvm', 'vhost-net', 'net/tun'] });
  expectStatus(r, {
    'hw-virt': 'PASS',
    kvm: 'PASS',
    'vhost-net': 'PASS',
    tun: 'PASS',
    nested: 'PASS',
    'iommu-hw': 'PASS',
    'iommu-kernel': 'PASS',
    'cgroup-cpuset': 'PASS',
    'cgroup-cpu': 'PASS',
    'cgroup-memory': 'PASS',
    hugepages: 'PASS',
    memlock: 'PASS',
  });
  assert.equal(r.get('hw-virt')?.detail, 'Intel VT-x (vmx)');
  assert.equal(r.get('nested')?.detail, 'kvm_intel nested=Y');
  assert.equal(r.get('iommu-hw')?.detail, 'Intel VT-d (ACPI DMAR table)');
  assert.equal(r.get('iommu-kernel')?.detail, '2 IOMMU groups');
  assert.equal(r.get('cgroup-memory')?.detail, 'cgroup v2 at /sys/fs/cgroup');
  assert.equal(r.get('hugepages')?.detail, '512 x 2 MiB reserved; hugetlbfs at /dev/hugepages');
  assert.equal(r.get('memlock')?.detail, 'soft unlimited, hard unlimited');
});

test('an AMD host without /dev/kvm, with cgroup v1, a disabled memory controller and a small memlock limit: FAIL and WARNs with remedies', async (t) => {
  const r = await inTree(t, 'tree-amd-v1');
  expectStatus(r, {
    'hw-virt': 'PASS',
    kvm: 'FAIL',
    nested: 'WARN',
    'iommu-hw': 'WARN',
    'iommu-kernel': 'WARN',
    'cgroup-cpuset': 'WARN',
    'cgroup-cpu': 'PASS',
    'cgroup-memory': 'WARN',
    hugepages: 'WARN',
    'vhost-net': 'WARN',
    tun: 'WARN',
    memlock: 'WARN',
    qemu: 'FAIL',
    setpriv: 'FAIL',
  });
  assert.equal(r.get('kvm')?.remedy, 'load the KVM modules: modprobe kvm_amd');
  assert.match(r.get('nested')?.remedy ?? '', /options kvm_amd nested=1/);
  assert.match(r.get('iommu-kernel')?.remedy ?? '', /add amd_iommu=on to the kernel command line/);
  assert.match(r.get('cgroup-cpuset')?.detail ?? '', /not enabled in the cgroup v2 hierarchy at \/sys\/fs\/cgroup\/unified/);
  assert.equal(r.get('cgroup-cpu')?.detail, 'cgroup v1 at /sys/fs/cgroup/cpu,cpuacct');
  assert.match(r.get('cgroup-memory')?.detail ?? '', /cgroup_disable=memory/);
  assert.match(r.get('hugepages')?.remedy ?? '', /vm\.nr_hugepages/);
  assert.equal(r.get('vhost-net')?.detail, 'exists but is not a character device');
  assert.equal(r.get('tun')?.remedy, 'modprobe tun');
  assert.match(r.get('memlock')?.detail ?? '', /^soft 64 KiB, hard 64 KiB: locking guest RAM/);
  assert.match(r.get('qemu')?.remedy ?? '', /apt-get install qemu-system-x86/);
  assert.match(r.get('setpriv')?.remedy ?? '', /util-linux/);
  assert.equal(hostValid([...r.values()]), false);
});

test('a host without VT-x/AMD-V: only emulation is possible, which warns but does not fail', async (t) => {
  const r = await inTree(t, 'tree-no-virt');
  expectStatus(r, { 'hw-virt': 'WARN', kvm: 'WARN', nested: 'WARN', 'iommu-kernel': 'WARN', 'cgroup-cpuset': 'WARN', 'cgroup-cpu': 'WARN', hugepages: 'WARN', memlock: 'PASS' });
  assert.match(r.get('hw-virt')?.detail ?? '', /only TCG emulation is possible/);
  assert.match(r.get('hw-virt')?.remedy ?? '', /firmware/);
  assert.equal(r.get('nested')?.detail, 'no kvm_intel or kvm_amd module is loaded');
  assert.match(r.get('iommu-kernel')?.detail ?? '', /intel_iommu=off/);
  assert.equal(r.get('cgroup-cpuset')?.detail, 'the kernel has no such controller');
  assert.match(r.get('cgroup-cpu')?.remedy ?? '', /echo \+cpu > \/sys\/fs\/cgroup\/cgroup\.subtree_control/);
  assert.equal(r.get('hugepages')?.detail, '64 x 2 MiB reserved, but no hugetlbfs is mounted');
  assert.match(r.get('memlock')?.detail ?? '', /soft 64 KiB, hard unlimited: vmkit raises the soft limit/);
});

test('a /dev/kvm this user cannot open fails, naming the group to join', async (t) => {
  const r = await inTree(t, 'tree-intel-v2', { charDevs: ['kvm'], readWrite: async (p) => !p.endsWith('/kvm'), uid: 1000 });
  assert.equal(r.get('kvm')?.status, 'FAIL');
  assert.equal(r.get('kvm')?.detail, 'this user (uid 1000) cannot open /dev/kvm read-write');
  // The node's group (that of /dev/null, which the link leads to) named from the fixture's /etc/group.
  const gid = statSync('/dev/null').gid;
  const group = fixtureText('tree-intel-v2/etc/group').split('\n').find((l) => l.split(':')[2] === String(gid))?.split(':')[0] ?? String(gid);
  assert.equal(r.get('kvm')?.remedy, `add this user to group ${group} (usermod -aG ${group} USER) and log in again`);
});

test('QEMU binaries on PATH are listed once each with their version; a cold cache probes, a warm one does not, a broken binary warns', async (t) => {
  const dir = await tempDir(t);
  const bin = join(dir, 'bin');
  await mkdir(bin);
  const a = await fakeBinary(bin, 'qemu-system-x86_64');
  await fakeBinary(bin, 'qemu-system-aarch64');
  await fakeBinary(bin, 'qemu-img'); // not a system emulator
  const probe = countingProbe({ fail: () => (probe.calls.at(-1)?.endsWith('aarch64') === true ? new VmkitError('QemuFailed', 'Cannot probe: boom') : undefined) });
  const cache = new CapsCache({ cacheDir: join(dir, 'cache'), probe, facts: fakeFacts({ kernel: 'k', kvm: true }) });
  const run = async (): Promise<CheckResult[]> => (await validateHost({ env: { PATH: `${bin}:${bin}` }, caps: cache })).filter((r) => r.id.startsWith('qemu'));
  const first = await run();
  assert.deepEqual(first.map((r) => [r.id, r.status]), [
    [`qemu:${join(bin, 'qemu-system-aarch64')}`, 'WARN'],
    [`qemu:${a}`, 'PASS'],
  ]);
  assert.match(first[0]?.detail ?? '', /^cannot probe: Cannot probe: boom$/);
  assert.match(first[1]?.detail ?? '', /^QEMU 7\.2\.22, x86_64, KVM usable \(probed in \d+ ms\)$/);
  const second = await run();
  assert.match(second[1]?.detail ?? '', /\(cached\)$/);
  assert.deepEqual(probe.calls.filter((c) => c === a), [a], 'x86_64 probed once');
});

test('human output is one aligned line per check; JSON has id, title, status, detail and remedy for each', () => {
  const results: CheckResult[] = [
    { id: 'kvm', title: '/dev/kvm usable', status: 'PASS', detail: 'read-write for uid 0' },
    { id: 'hugepages', title: 'Hugepages', status: 'WARN', detail: 'no hugepages reserved', remedy: 'sysctl vm.nr_hugepages=N' },
    { id: 'setpriv', title: 'setpriv (util-linux)', status: 'FAIL', detail: 'not found', remedy: 'apt-get install util-linux' },
  ];
  const lines = formatChecks(results).split('\n');
  assert.equal(lines.length, 3);
  const statusCol = lines.map((l) => l.search(/ (PASS|WARN|FAIL) /));
  assert.ok(statusCol.every((c) => c === statusCol[0]), 'statuses line up');
  assert.match(lines[0] ?? '', /^\/dev\/kvm usable \.+ PASS  read-write for uid 0$/);
  assert.match(lines[1] ?? '', /^Hugepages \.+ WARN  no hugepages reserved — fix: sysctl vm\.nr_hugepages=N$/);
  assert.deepEqual(checksJson(results)[0], { id: 'kvm', title: '/dev/kvm usable', status: 'PASS', detail: 'read-write for uid 0', remedy: null });
  assert.equal(hostValid(results), false);
  assert.equal(hostValid(results.slice(0, 2)), true);
});
