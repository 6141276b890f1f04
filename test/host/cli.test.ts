import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
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

test('vmkit host validate exits 0 on this machine and prints /dev/kvm PASS; --json gives every check', async (t) => {
  const env = { VMKIT_CACHE_DIR: await tempDir(t) };
  const human = await runCli(['host', 'validate'], { env }).done;
  assert.equal(human.code, 0, human.stdout + human.stderr);
  assert.match(human.stdout, /^\/dev\/kvm usable \.+ PASS {2}read-write/m);
  const json = await runCli(['host', 'validate', '--json'], { env }).done;
  assert.equal(json.code, 0);
  const checks = JSON.parse(json.stdout) as { id: string; status: string; remedy: string | null }[];
  assert.equal(checks.find((c) => c.id === 'kvm')?.status, 'PASS');
  for (const id of ['hw-virt', 'nested', 'iommu-hw', 'iommu-kernel', 'cgroup-cpuset', 'cgroup-cpu', 'cgroup-memory', 'hugepages', 'vhost-net', 'tun', 'memlock', 'setpriv']) {
    assert.ok(checks.some((c) => c.id === id), id);
  }
  assert.ok(checks.some((c) => c.id === 'qemu:/usr/bin/qemu-system-x86_64' || c.id === 'qemu:/bin/qemu-system-x86_64'));
  assert.ok(checks.every((c) => c.status === 'PASS' ? c.remedy === null : typeof c.remedy === 'string'));
});
