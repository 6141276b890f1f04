import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEmbedded } from '../../src/index.js';
import { explain, runCli } from '../helpers/cli.js';
import { ACCEL_NOTE, fastCmdline, tinyGuest } from '../helpers/guest.js';
import { readThreads } from '../helpers/threads.js';
import { formatCpuSet, parseCpuSet } from '../../src/util/cpu-set.js';

function launcherYaml(opts: { action: string; spelling: 'arrays' | 'strings' | 'mixed'; launcherExtra?: string }): string {
  const g = tinyGuest();
  const qemu = {
    arrays: ['- name: [ my tiny vm ]', '- machine: [ q35, accel: tcg ]', '- smp: [ 2, sockets: 1, cores: 2, threads: 1 ]', '- m: 256M'],
    strings: ['- name: my tiny vm', '- machine: q35,accel=tcg', '- smp: 2,sockets=1,cores=2,threads=1', '- m: 256M'],
    mixed: ['- name: [ my tiny vm ]', '- machine:', '  - q35,', '  - accel=tcg', '- smp:', '  - 2', '  - { sockets: 1 }', '  - cores: 2', '  - { threads: 1 }', '- m: 256M'],
  }[opts.spelling];
  return [
    'launcher:',
    '  binary: qemu-system-x86_64',
    '  env:',
    '    VMKIT_TEST_ENV: launcher',
    opts.launcherExtra ?? '',
    'qemu:',
    ...qemu,
    '- nographic',
    `- kernel: ${JSON.stringify(g.vmlinux)}`,
    `- initrd: ${JSON.stringify(g.initrd)}`,
    `- append: ${fastCmdline()} vmkit.action=${opts.action}`,
  ].join('\n');
}

describe(`qemu-launcher definitions, unchanged (real QEMU; ${ACCEL_NOTE})`, () => {
  let dir: string;
  before(async () => {
    tinyGuest();
    dir = await mkdtemp(join(tmpdir(), 'vmkit-test-launcher-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const spelling of ['arrays', 'strings', 'mixed'] as const) {
    it(`vmkit run NAME finds NAME.yml in QEMU_LAUNCHER_CONFIG_DIR and boots it (${spelling} spelling)`, { timeout: 60_000 }, async () => {
      await writeFile(join(dir, `vm-${spelling}.yml`), launcherYaml({ action: 'report', spelling }));
      const r = await runCli(['run', '--console', `vm-${spelling}`], { env: { QEMU_LAUNCHER_CONFIG_DIR: dir }, cwd: tmpdir() }).done;
      assert.equal(r.code, 0, explain(r));
      assert.match(r.stdout, /VMKIT-GUEST-BANNER kernel=\S+ cpus=2/);
      assert.match(r.stdout, /VMKIT-REPORT cmdline=.*vmkit\.action=report/);
    });
  }

  it('vcpu_pinning, scheduler and priority are applied to every vCPU thread before the guest runs', { timeout: 60_000 }, async () => {
    // Socket 0, core 0, thread 0 -> host CPU 1. qemu-launcher isolates pinned CPUs (cpuset pool), so on a
    // 2-CPU host one pinned CPU is all there is to spare: vCPU 1 stays unpinned.
    const extra = ['  scheduler: fifo', '  priority: 10', '  vcpu_pinning:', '    0:', '      0:', '        0: 1'].join('\n');
    await writeFile(join(dir, 'pinned.yml'), launcherYaml({ action: 'poweroff', spelling: 'arrays', launcherExtra: extra }));
    const conn = await openEmbedded({ root: join(dir, 'root') });
    try {
      const d = await conn.define({ path: join(dir, 'pinned.yml') });
      await d.start({ paused: true }); // tuning runs between -S and cont; paused, we see what the guest will run with
      const threads = await readThreads(d.pid ?? -1);
      const vcpu0 = threads.find((t) => t.comm.startsWith('CPU 0/'));
      const vcpu1 = threads.find((t) => t.comm.startsWith('CPU 1/'));
      assert.ok(vcpu0 && vcpu1, `vCPU threads found: ${threads.map((t) => t.comm).join(', ')}`);
      assert.equal(vcpu0.cpus, '1');
      const self = async (): Promise<string> => /^Cpus_allowed_list:\s*(\S+)/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1] ?? '?';
      assert.equal(await self(), '0', 'host tasks (this test process) are shielded from the pinned CPU');
      assert.equal(vcpu0.policy, 1, 'SCHED_FIFO');
      assert.equal(vcpu0.prio, 89, 'priority 10 is kernel prio 99-10');
      assert.equal(vcpu1.policy, 1, 'the scheduler applies to every vCPU thread');
      const cgroup = await readFile(`/proc/${d.pid ?? -1}/task/${vcpu0.tid}/cpuset`, 'utf8');
      assert.match(cgroup, /vmkit/, `vCPU 0 is in vmkit's cpuset (${cgroup.trim()})`);
      await d.destroy();
      assert.equal(await self(), '0-1', 'host tasks get every CPU back when the VM ends');
      assert.doesNotMatch(await readdirNames('/sys/fs/cgroup/cpuset/vmkit'), /pinned@/, 'the VM\'s cgroup is gone after it stopped');
    } finally {
      await conn.close();
    }
  });

  it('vcpu_pinning over every host CPU is applied without the implied isolation, with a warning at vcpu_pinning (argv, --json, run)', { timeout: 60_000 }, async () => {
    // Every online CPU gets one vCPU, in reverse (vCPU i -> CPU n-1-i): isolating them all would leave the
    // host none, so vmkit pins without the cpuset shield instead of refusing the file.
    const online = parseCpuSet((await readFile('/sys/devices/system/cpu/online', 'utf8')).trim());
    const self = async (): Promise<string> => /^Cpus_allowed_list:\s*(\S+)/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1] ?? '?';
    assert.equal(await self(), formatCpuSet(online), 'this test needs a process that may use every online CPU');
    const n = online.length;
    const pins = ['  vcpu_pinning:', '    0:', ...online.flatMap((_, i) => [`      ${i}:`, `        0: ${online[n - 1 - i] ?? 0}`])].join('\n');
    const text = launcherYaml({ action: 'poweroff', spelling: 'strings', launcherExtra: pins }).replace('smp: 2,sockets=1,cores=2,threads=1', `smp: ${n},sockets=1,cores=${n},threads=1`);
    const file = join(dir, 'allcpus.yml');
    await writeFile(file, text);
    const warning = new RegExp(`^vmkit: warning: ${file}:6:5: launcher\\.vcpu_pinning: vcpu_pinning pins every online CPU of this host \\(${formatCpuSet(online)}\\); .*: the vCPUs are pinned without isolation`, 'm');
    const argv = await runCli(['argv', file]).done;
    assert.equal(argv.code, 0, explain(argv));
    assert.match(argv.stderr, warning);
    assert.doesNotMatch(argv.stderr, /isolate: cpuset/, 'the plan shows no isolation');
    const json = await runCli(['argv', '--json', file]).done;
    const out = JSON.parse(json.stdout) as { warnings: { path: string; line: number; col: number }[] };
    assert.deepEqual(out.warnings.map((w) => `${w.line}:${w.col} ${w.path}`), ['6:5 launcher.vcpu_pinning']);
    const conn = await openEmbedded({ root: join(dir, 'root-all') });
    try {
      const d = await conn.define({ path: file });
      await d.start({ paused: true });
      const threads = await readThreads(d.pid ?? -1);
      for (let i = 0; i < n; i++) {
        const t = threads.find((x) => x.comm.startsWith(`CPU ${i}/`));
        assert.equal(t?.cpus, String(online[n - 1 - i]), `vCPU ${i}`);
        assert.doesNotMatch(await readFile(`/proc/${d.pid ?? -1}/task/${t?.tid ?? -1}/cpuset`, 'utf8'), /vmkit/, `vCPU ${i} is in no vmkit cpuset`);
      }
      assert.equal(await self(), formatCpuSet(online), 'host tasks keep every CPU');
      await d.destroy();
    } finally {
      await conn.close();
    }
    const run = await runCli(['run', file]).done;
    assert.equal(run.code, 0, explain(run));
    assert.match(run.stderr, warning);
  });
});

async function readdirNames(dir: string): Promise<string> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir(dir).catch(() => [] as string[])).join(' ');
}
