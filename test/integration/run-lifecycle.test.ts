/** `vmkit run` with lifecycle policies in the definition: what a one-shot run honours (see the README). */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { ACCEL_NOTE, tinyGuest, tinyYaml } from '../helpers/guest.js';

describe(`vmkit run and lifecycle policies (real QEMU; ${ACCEL_NOTE})`, () => {
  let work: string;
  let runTmp: string;
  const env = (): NodeJS.ProcessEnv => ({ TMPDIR: runTmp, XDG_RUNTIME_DIR: '' });

  before(async () => {
    tinyGuest();
    work = await mkdtemp(join(tmpdir(), 'vmkit-test-runlife-'));
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

  it('on_poweroff preserve keeps QEMU paused after the guest powers off; Ctrl-C then stops it at once (130)', { timeout: 90_000 }, async () => {
    const file = await config('keep', tinyYaml({ name: 'keep', action: 'poweroff', extra: 'lifecycle: { on_poweroff: preserve }' }));
    const run = runCli(['run', '--console', file], { env: env() });
    await run.waitFor('on_poweroff preserve', 60_000);
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.ok(Date.now() - t0 < 10_000, 'no --grace wait for a paused guest');
    assert.match(r.stdout, /VMKIT-GUEST-POWEROFF/);
    assert.deepEqual(await readdir(runTmp), []);
  });

  it('on_poweroff restart does not apply to a one-shot run: a warning, and the run ends with the guest (0)', { timeout: 90_000 }, async () => {
    const file = await config('again', tinyYaml({ name: 'again', action: 'poweroff', extra: 'lifecycle: { on_poweroff: restart }' }));
    const r = await runCli(['run', file], { env: env() }).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: on_poweroff restart does not apply to 'vmkit run'/);
  });
});
