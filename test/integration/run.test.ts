import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, before, after } from 'node:test';
import { childPids, cmdline, explain, isDead, runCli, waitUntil } from '../helpers/cli.js';
import { ACCEL_NOTE, fastCmdline, tinyGuest, tinyYaml } from '../helpers/guest.js';

// Every test here boots the tiny guest under TCG (see ACCEL_NOTE) with a bounded timeout.
describe(`vmkit run (real QEMU; ${ACCEL_NOTE})`, () => {
  let work: string;
  let runTmp: string;
  const env = (): NodeJS.ProcessEnv => ({ TMPDIR: runTmp, XDG_RUNTIME_DIR: '' });

  before(async () => {
    tinyGuest(); // fails early and clearly when the guest is not built
    work = await mkdtemp(join(tmpdir(), 'vmkit-test-run-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function config(name: string, yaml: string): Promise<string> {
    runTmp = await mkdtemp(join(work, `tmp-${name}-`));
    const file = join(work, `${name}.yaml`);
    await writeFile(file, yaml);
    return file;
  }

  it('boots the tiny guest, shows its console, exits 0 and removes its state directory', { timeout: 60_000 }, async () => {
    const file = await config('boot', tinyYaml({ name: 'boot', action: 'report', vcpus: 2 }));
    const run = runCli(['run', '--console', file], { env: env() });
    const r = await run.done;
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, /VMKIT-GUEST-BANNER kernel=\S+ cpus=2/);
    assert.match(r.stdout, /VMKIT-REPORT cmdline=.*vmkit\.action=report/);
    assert.match(r.stderr, /accel tcg/);
    assert.deepEqual(await readdir(runTmp), [], 'the private root is removed');
  });

  it('without --console keeps the console off the terminal and writes it to --log', { timeout: 60_000 }, async () => {
    const file = await config('log', tinyYaml({ name: 'log' }));
    const logFile = join(work, 'console.log');
    const r = await runCli(['run', '--log', logFile, file], { env: env() }).done;
    assert.equal(r.code, 0, explain(r));
    assert.doesNotMatch(r.stdout, /VMKIT-GUEST-BANNER/);
    const { readFile } = await import('node:fs/promises');
    assert.match(await readFile(logFile, 'utf8'), /VMKIT-GUEST-BANNER/);
  });

  it('prints the outcome as JSON with --json', { timeout: 60_000 }, async () => {
    const file = await config('json', tinyYaml({ name: 'json' }));
    const r = await runCli(['run', '--json', file], { env: env() }).done;
    assert.equal(r.code, 0, explain(r));
    const out = JSON.parse(r.stdout) as { name: string; reason: string; status: number };
    assert.equal(out.name, 'json');
    assert.equal(out.reason, 'shutdown');
    assert.equal(out.status, 0);
  });

  it('on Ctrl-C asks the guest to power off through ACPI and exits 130', { timeout: 60_000 }, async () => {
    const file = await config('sigint', tinyYaml({ name: 'sigint', action: 'wait' }));
    const run = runCli(['run', '--console', file], { env: env() });
    await run.waitFor('VMKIT-GUEST-BANNER');
    await run.waitFor('VMKIT-GUEST-READY', 30_000); // the guest watches its power button
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.match(r.stdout, /VMKIT-GUEST-POWERBUTTON/, 'the guest saw the ACPI power button');
    assert.match(r.stdout, /VMKIT-GUEST-POWEROFF/);
    assert.equal(r.code, 130, r.stderr);
    assert.deepEqual(await readdir(runTmp), []);
  });

  it('boots the tiny guest with QEMU as a non-root account (user: vmkit-qemu), its run directory given to that account', { timeout: 60_000 }, async () => {
    const file = await config('asuser', tinyYaml({ name: 'asuser', action: 'wait', extra: 'user: vmkit-qemu' }));
    const passwd = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith('vmkit-qemu:'));
    if (process.geteuid?.() !== 0 || passwd === undefined) {
      // Running QEMU as another account needs root, and the account (scripts/setup.sh creates it).
      const r = await runCli(['run', file], { env: env() }).done;
      assert.notEqual(r.code, 0, explain(r));
      assert.match(r.stderr, passwd === undefined ? /Unknown user 'vmkit-qemu'/ : /setpriv|Operation not permitted|needs root/);
      return;
    }
    const uid = Number(passwd.split(':')[2]);
    // The account must be able to pass through the directories on the way to the run directory (not list them).
    await chmod(work, 0o711);
    await chmod(runTmp, 0o711);
    const run = runCli(['run', '--console', file], { env: env() });
    await run.waitFor('VMKIT-GUEST-READY', 40_000);
    const [qemu] = await childPids(run.child.pid ?? -1);
    assert.ok(qemu !== undefined, 'QEMU is vmkit\'s child');
    const status = await readFile(`/proc/${qemu}/status`, 'utf8');
    assert.deepEqual(/^Uid:\s+(\d+)\s+(\d+)/m.exec(status)?.slice(1).map(Number), [uid, uid], 'QEMU runs as vmkit-qemu');
    const [privateRoot] = await readdir(runTmp);
    const runDirs = await readdir(join(runTmp, privateRoot ?? '', 'run'));
    const qdir = await stat(join(runTmp, privateRoot ?? '', 'run', runDirs[0] ?? '', 'q'));
    assert.equal(qdir.uid, uid, 'q/ (pid file, served sockets) belongs to QEMU\'s account');
    assert.equal((await stat(join(runTmp, privateRoot ?? '', 'run', runDirs[0] ?? ''))).uid, 0, 'the run directory stays vmkit\'s');
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.match(r.stdout, /VMKIT-GUEST-POWEROFF/);
    assert.equal(r.code, 130, r.stderr);
    assert.deepEqual(await readdir(runTmp), []);
  });

  it('runs QEMU with exactly the command line `vmkit argv` prints (no hotplug ports: nothing can reach a run to hot-plug)', { timeout: 60_000 }, async () => {
    const file = await config('sameargv', tinyYaml({ name: 'sameargv', action: 'wait' }));
    const printed = await runCli(['argv', '--json', file], { env: env() }).done;
    assert.equal(printed.code, 0, explain(printed));
    const plan = JSON.parse(printed.stdout) as { binary: string; argv: string[] };
    const run = runCli(['run', '--console', file], { env: env() });
    try {
      await run.waitFor('VMKIT-GUEST-READY', 40_000);
      const [qemu] = await childPids(run.child.pid ?? -1);
      assert.ok(qemu !== undefined, 'QEMU is vmkit\'s child');
      const actual = (await cmdline(qemu)) ?? [];
      // The run directory is made at start; the argv names it $VMKIT_RUN_DIR.
      const pidFile = actual[actual.indexOf('-pidfile') + 1] ?? '';
      const runDir = pidFile.replace(/\/q\/qemu\.pid$/, '');
      assert.match(runDir, /\/run\/sameargv\.[^/]+$/, `the pid file ${pidFile} is in the run directory`);
      // The spawn goes through `setpriv --pdeathsig KILL --` (QEMU dies with vmkit): QEMU is that command's argv after `--`.
      assert.deepEqual(actual, [plan.binary, ...plan.argv.map((a) => a.replaceAll('$VMKIT_RUN_DIR', runDir))]);
      assert.ok(!actual.some((a) => a.startsWith('pcie-root-port')), 'no root ports reserved for hotplug');
    } finally {
      run.child.kill('SIGINT');
    }
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
  });

  it('on SIGTERM stops a guest that ignores ACPI after --grace seconds and exits 143', { timeout: 60_000 }, async () => {
    const file = await config('sigterm', tinyYaml({ name: 'sigterm', cmdline: `${fastCmdline()} acpi=off vmkit.action=wait` }));
    const run = runCli(['run', '--console', '--grace', '1', file], { env: env() });
    await run.waitFor('VMKIT-GUEST-BANNER');
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const r = await run.done;
    const took = Date.now() - t0;
    assert.equal(r.code, 143, r.stderr);
    assert.doesNotMatch(r.stdout, /VMKIT-GUEST-POWERBUTTON/);
    assert.match(r.stderr, /did not power off within 1 s/);
    assert.ok(took >= 1000 && took < 10_000, `stopped after the grace period (took ${took} ms)`);
    assert.deepEqual(await readdir(runTmp), []);
  });

  it('a second Ctrl-C stops QEMU at once', { timeout: 60_000 }, async () => {
    const file = await config('twice', tinyYaml({ name: 'twice', cmdline: `${fastCmdline()} acpi=off vmkit.action=wait` }));
    const run = runCli(['run', '--console', file], { env: env() });
    await run.waitFor('VMKIT-GUEST-BANNER');
    run.child.kill('SIGINT');
    await run.waitFor('asking the guest to power off');
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.ok(Date.now() - t0 < 5000, 'did not wait for the 30 s grace period');
    assert.deepEqual(await readdir(runTmp), []);
  });

  it('kill -9 of vmkit leaves no QEMU behind (gone within a second)', { timeout: 60_000 }, async () => {
    const file = await config('kill9', tinyYaml({ name: 'kill9', action: 'wait' }));
    const run = runCli(['run', '--console', file], { env: env() });
    await run.waitFor('VMKIT-GUEST-BANNER');
    const vmkitPid = run.child.pid ?? -1;
    const kids = await childPids(vmkitPid);
    const qemuPids: number[] = [];
    for (const pid of kids) if ((await cmdline(pid))?.some((a) => a.includes('qemu-system')) === true) qemuPids.push(pid);
    assert.equal(qemuPids.length, 1, `QEMU is vmkit's direct child (children: ${kids.join(',')})`);
    const qemu = qemuPids[0] ?? -1;
    run.child.kill('SIGKILL');
    await run.done;
    const gone = await waitUntil(() => isDead(qemu), 1000, 10);
    assert.ok(gone, `QEMU ${qemu} still runs 1 s after vmkit was killed`);
    // The killed run could not remove its private root; the next run sweeps it.
    assert.equal((await readdir(runTmp)).length, 1);
    const sweepFile = join(work, 'sweep.yaml');
    await writeFile(sweepFile, tinyYaml({ name: 'sweep' }));
    const next = await runCli(['run', sweepFile], { env: env() }).done;
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(await readdir(runTmp), [], 'the stale private root was swept');
  });

  it('a broken definition exits 2, names every problem with its position and starts nothing', { timeout: 30_000 }, async () => {
    const file = await config('broken', 'name: broken\nmemory: lots\ncpu:\n  vcpus: 0\nbogus: 1\n');
    const r = await runCli(['run', file], { env: env() }).done;
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:2:\\d+`));
    assert.match(r.stderr, /bogus/);
    assert.deepEqual(await readdir(runTmp), [], 'no private root was created');
  });

  it('QEMU failing to start (a disk image it cannot open) exits 1 with QEMU\'s own message', { timeout: 30_000 }, async () => {
    const missing = join(work, 'no-such-disk.qcow2');
    const file = await config('qemufail', tinyYaml({ name: 'qemufail', extra: `disks:\n  - { path: ${JSON.stringify(missing)}, format: qcow2 }` }));
    const r = await runCli(['run', file], { env: env() }).done;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /QEMU failed to start/);
    assert.match(r.stderr, /no-such-disk\.qcow2.*No such file or directory/);
    assert.deepEqual(await readdir(runTmp), []);
  });

  it('a machine type this QEMU lacks is rejected before start with its position and the closest names (exit 2)', { timeout: 30_000 }, async () => {
    const file = await config('badmachine', tinyYaml({ name: 'badmachine', machine: 'q36' }));
    const r = await runCli(['run', file], { env: env() }).done;
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /badmachine\.yaml:3:\d+: machine\.type: Machine type "q36" is not available .*did you mean q35/);
    assert.deepEqual(await readdir(runTmp), [], 'nothing started');
  });
});
