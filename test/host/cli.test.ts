import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { devKvm, expectedKvmCheck, kvmOpens } from '../helpers/kvm.js';
import { tempDir } from './helpers.js';

test('vmkit host caps --json probes once, then answers from the shared cache (VMKIT_CACHE_DIR)', async (t) => {
  const cache = await tempDir(t);
  const env = { VMKIT_CACHE_DIR: cache };
  const first = await runCli(['host', 'caps', '--json', '--binary', '/usr/bin/qemu-system-x86_64'], { env }).done;
  assert.equal(first.code, 0, first.stderr);
  const a = JSON.parse(first.stdout) as { binary: string; machines: { alias?: string }[]; probe: { at: string } };
  assert.equal(a.binary, '/usr/bin/qemu-system-x86_64');
  assert.ok(a.machines.some((m) => m.alias === 'q35'));
  const second = await runCli(['host', 'caps', '--json'], { env }).done;
  assert.equal(second.code, 0, second.stderr);
  assert.equal((JSON.parse(second.stdout) as { probe: { at: string } }).probe.at, a.probe.at, 'the same (cached) probe');
  const human = await runCli(['host', 'caps'], { env }).done;
  assert.equal(human.code, 0);
  assert.match(human.stdout, /^binary {8}\/usr\/bin\/qemu-system-x86_64\nversion {7}QEMU 7\./);
  assert.match(human.stdout, /\(from the cache\)/);
  assert.match(human.stdout, /q35=pc-q35-7\.2/);
});

test('vmkit host caps --binary with a missing binary exits 2 and names it', async () => {
  const r = await runCli(['host', 'caps', '--binary', '/nonexistent/qemu-system-x86_64']).done;
  assert.equal(r.code, 2);
  assert.match(r.stderr, /QEMU binary \/nonexistent\/qemu-system-x86_64 does not exist/);
});

test('vmkit host validate reports /dev/kvm as this machine has it (read independently); --json gives every check', async (t) => {
  const env = { VMKIT_CACHE_DIR: await tempDir(t) };
  const kvm = expectedKvmCheck();
  const human = await runCli(['host', 'validate'], { env }).done;
  const line = /^\/dev\/kvm usable \.+ (PASS|WARN|FAIL) {2}(.*)$/m.exec(human.stdout);
  assert.equal(line?.[1], kvm, `/dev/kvm is ${devKvm()} here: ${human.stdout}${human.stderr}`);
  if (kvm === 'PASS') assert.match(line?.[2] ?? '', /^read-write for uid \d+$/);
  const json = await runCli(['host', 'validate', '--json'], { env }).done;
  const checks = JSON.parse(json.stdout) as { id: string; status: string; detail: string; remedy: string | null }[];
  assert.equal(checks.find((c) => c.id === 'kvm')?.status, kvm);
  // Exit 0 exactly when nothing failed; a /dev/kvm that should be there and is not is a failure.
  const failed = checks.filter((c) => c.status === 'FAIL');
  assert.equal(human.code, failed.length === 0 ? 0 : 1, human.stdout);
  assert.equal(json.code, human.code);
  if (kvm !== 'FAIL') assert.deepEqual(failed, [], 'nothing else fails on these machines');
  for (const id of ['hw-virt', 'nested', 'iommu-hw', 'iommu-kernel', 'cgroup-cpuset', 'cgroup-cpu', 'cgroup-memory', 'hugepages', 'vhost-net', 'tun', 'memlock', 'setpriv']) {
    assert.ok(checks.some((c) => c.id === id), id);
  }
  assert.ok(checks.some((c) => c.id === 'qemu:/usr/bin/qemu-system-x86_64' || c.id === 'qemu:/bin/qemu-system-x86_64'));
  assert.ok(checks.every((c) => c.status === 'PASS' ? c.remedy === null : typeof c.remedy === 'string'));
  // Debian's microvm build has only KVM: without a usable /dev/kvm it probes under qtest and cannot run guests.
  const micro = checks.find((c) => c.id.endsWith('/qemu-system-x86_64-microvm'));
  if (micro !== undefined) {
    if (kvmOpens()) assert.equal(micro.status, 'PASS', micro.detail);
    else {
      assert.equal(micro.status, 'WARN');
      assert.match(micro.detail, new RegExp(`^QEMU \\d+\\.\\d+\\.\\d+, x86_64: only the kvm accelerator is built in and ${devKvm() === 'missing' ? '/dev/kvm is missing' : '\\S.*'}: this binary cannot run guests here$`));
    }
  }
});
