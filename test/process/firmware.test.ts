import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { VmkitError } from '../../src/errors.js';
import { openEmbedded } from '../../src/index.js';
import { killQemusUnder } from '../driver/fixtures.js';
import type { DomainSpec } from '../../src/model/domain.js';
import { prepareFirmware } from '../../src/process/firmware.js';
import { baseSpec } from '../qemu/fixtures.js';
import { kvmOpens } from '../helpers/kvm.js';

function withPflash(vars: string | undefined, varsTemplate?: string): DomainSpec {
  return {
    ...baseSpec(),
    boot: { kind: 'firmware', pflash: { code: '/fw/CODE.fd', readonly: true, ...(vars === undefined ? {} : { vars }), ...(varsTemplate === undefined ? {} : { varsTemplate }) }, order: [] },
  };
}

describe('pflash variable store at start', () => {
  it('copies the template when the store is missing (mode 0600), and never overwrites an existing store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmkit-fw-'));
    try {
      const template = join(dir, 'VARS.fd');
      const vars = join(dir, 'vm,1 VARS.fd');
      await writeFile(template, 'pristine');
      await prepareFirmware(withPflash(vars, template), undefined);
      assert.equal(await readFile(vars, 'utf8'), 'pristine');
      assert.equal((await stat(vars)).mode & 0o777, 0o600);
      await writeFile(vars, 'the guest wrote variables');
      await prepareFirmware(withPflash(vars, template), undefined);
      assert.equal(await readFile(vars, 'utf8'), 'the guest wrote variables');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a missing store without a template, and names an unreadable template', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmkit-fw-'));
    try {
      await assert.rejects(prepareFirmware(withPflash(join(dir, 'none.fd')), undefined), (e: unknown) => e instanceof VmkitError && /does not exist and the definition gives no template/.test(e.message));
      await assert.rejects(prepareFirmware(withPflash(join(dir, 'v.fd'), join(dir, 'missing.fd')), undefined), (e: unknown) => e instanceof VmkitError && /Cannot create the UEFI variable store/.test(e.message));
      await prepareFirmware(withPflash(undefined), undefined);
      await prepareFirmware(baseSpec(), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a paused start with flash firmware creates the store from its template, and QEMU takes both images', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmkit-fw-'));
    const conn = await openEmbedded({ root: join(dir, 'root') });
    try {
      const flash = Buffer.alloc(1 << 20); // a flash image is a multiple of the 4 KiB sector; a paused VM never runs it
      await writeFile(join(dir, 'CODE.fd'), flash);
      await writeFile(join(dir, 'VARS.fd'), flash);
      await writeFile(join(dir, 'vm.yaml'), 'name: uefi\nmachine: q35\nmemory: 64M\nboot: { pflash: { code: CODE.fd, vars: nvram/uefi_VARS.fd, vars_template: VARS.fd } }\n');
      await mkdir(join(dir, 'nvram'));
      const d = await conn.define({ path: join(dir, 'vm.yaml') });
      await d.start({ paused: true });
      assert.equal((await stat(join(dir, 'nvram/uefi_VARS.fd'))).size, 1 << 20);
      // accel auto: KVM exactly when /dev/kvm opens here (read independently), else TCG.
      const accel = kvmOpens() ? 'kvm' : 'tcg';
      assert.ok(d.process?.argv.includes(`q35,accel=${accel},pflash0=vmkit-pflash0,pflash1=vmkit-pflash1`), d.process?.argv.join(' '));
      await d.destroy({ graceMs: 0 });
    } finally {
      await conn.close();
      await killQemusUnder(join(dir, 'root'));
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('pflash variable store with QEMU running as another account', () => {
  const nobody = { uid: 65534, gid: 65534, groups: [65534] };
  const root = process.geteuid?.() === 0;

  it(root ? 'opens the template and creates the store as that account: what it cannot read or write is refused, and nothing is left' : 'needs root to act as another account, and says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vmkit-fw-as-'));
    try {
      await chmod(dir, 0o755);
      const secret = join(dir, 'secret.fd');
      await writeFile(secret, 'root only', { mode: 0o600 });
      const open = join(dir, 'open');
      await mkdir(open, { mode: 0o777 });
      await chmod(open, 0o777);
      const template = join(dir, 'VARS.fd');
      await writeFile(template, 'pristine', { mode: 0o644 });
      if (!root) {
        await assert.rejects(prepareFirmware(withPflash(join(open, 'v.fd'), template), nobody), (e: unknown) => e instanceof VmkitError && e.code === 'HostError' && /needs root/.test(e.message));
        return;
      }
      // A template the account cannot read (a root-only file, like /etc/shadow): refused, no store made.
      await assert.rejects(prepareFirmware(withPflash(join(open, 'stolen.fd'), secret), nobody), (e: unknown) => e instanceof VmkitError && /reading the template: .*permission denied/i.test(e.message));
      assert.deepEqual(await readdir(open), []);
      // A store where the account cannot create files (a root-owned 0755 directory): refused.
      await assert.rejects(prepareFirmware(withPflash(join(dir, 'v.fd'), template), nobody), (e: unknown) => e instanceof VmkitError && /creating it: .*permission denied/i.test(e.message));
      await assert.rejects(stat(join(dir, 'v.fd')), { code: 'ENOENT' });
      // Allowed: the copy belongs to the account, 0600.
      await prepareFirmware(withPflash(join(open, 'ok.fd'), template), nobody);
      const st = await stat(join(open, 'ok.fd'));
      assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [65534, 65534, 0o600]);
      assert.equal(await readFile(join(open, 'ok.fd'), 'utf8'), 'pristine');
      // And the daemon's own thread is root again afterwards.
      assert.equal(await readFile(secret, 'utf8'), 'root only');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
