import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openEmbedded } from '../../src/index.js';
import { VmkitError } from '../../src/errors.js';
import { DEFAULT_POLICIES, definedPolicies, oneShotPolicies, policyArgs, resolvePolicies } from '../../src/driver/policies.js';
import { baseSpec } from '../qemu/fixtures.js';

describe('lifecycle policies', () => {
  it('defaults need no QEMU options', () => {
    assert.deepEqual(policyArgs(DEFAULT_POLICIES), []);
  });

  it('preserve and reboot-destroy become one -action option', () => {
    const p = resolvePolicies({ onPoweroff: 'preserve', onReboot: 'destroy', onCrash: 'preserve' });
    assert.deepEqual(policyArgs(p), ['-action', 'reboot=shutdown,shutdown=pause,panic=pause']);
  });

  it('an update keeps the fields it does not name', () => {
    const base = resolvePolicies({ onCrash: 'restart' });
    assert.deepEqual(resolvePolicies({ onPoweroff: 'restart' }, base), { onPoweroff: 'restart', onReboot: 'restart', onCrash: 'restart' });
  });

  it('rejects unknown actions and preserve on reboot, naming the policy', () => {
    assert.throws(
      () => resolvePolicies({ onCrash: 'explode' as never }),
      (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument' && /onCrash/.test(e.message) && /explode/.test(e.message),
    );
    assert.throws(() => resolvePolicies({ onReboot: 'preserve' }), (e: unknown) => e instanceof VmkitError && /not supported for onReboot/.test(e.message));
  });

  it("a definition's lifecycle is the domain's default; else the previous record's; explicit options override both", () => {
    const spec = { ...baseSpec(), lifecycle: { onPoweroff: 'preserve', onReboot: 'destroy', onCrash: 'restart' } as const };
    const previous = resolvePolicies({ onCrash: 'preserve' });
    assert.deepEqual(definedPolicies(spec, previous), spec.lifecycle);
    assert.deepEqual(definedPolicies(baseSpec(), previous), previous);
    assert.deepEqual(definedPolicies(baseSpec(), undefined), DEFAULT_POLICIES);
    assert.deepEqual(resolvePolicies({ onCrash: 'destroy' }, definedPolicies(spec, previous)), { onPoweroff: 'preserve', onReboot: 'destroy', onCrash: 'destroy' });
  });

  it('vmkit run (one-shot) turns restart after a power-off or crash into destroy, with a note each; the rest it honours', () => {
    const run = oneShotPolicies({ ...baseSpec(), lifecycle: { onPoweroff: 'restart', onReboot: 'destroy', onCrash: 'restart' } });
    assert.deepEqual(run.override, { onPoweroff: 'destroy', onCrash: 'destroy' });
    assert.equal(run.notes.length, 2);
    assert.match(run.notes[0] ?? '', /on_poweroff restart does not apply to 'vmkit run'/);
    assert.deepEqual(oneShotPolicies({ ...baseSpec(), lifecycle: { onPoweroff: 'preserve', onReboot: 'destroy', onCrash: 'preserve' } }), { override: {}, notes: [] });
    assert.deepEqual(oneShotPolicies(baseSpec()), { override: {}, notes: [] });
  });

  it('define: the definition\'s lifecycle becomes the domain\'s policies, a redefine without one keeps them, API options win', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vmkit-test-pol-'));
    const conn = await openEmbedded({ root });
    try {
      const xml = (onCrash: string): string =>
        `<domain type='qemu'><name>pol</name><memory unit='MiB'>64</memory><os><type machine='q35'>hvm</type></os><features><acpi/></features><on_poweroff>preserve</on_poweroff><on_crash>${onCrash}</on_crash></domain>`;
      const d = await conn.define({ text: xml('restart') });
      assert.deepEqual((await d.info()).policies, { onPoweroff: 'preserve', onReboot: 'restart', onCrash: 'restart' });
      await conn.define({ text: 'name: pol\nmemory: 64M\n' });
      assert.deepEqual((await d.info()).policies, { onPoweroff: 'preserve', onReboot: 'restart', onCrash: 'restart' }, 'no lifecycle: unchanged');
      await conn.define({ text: xml('preserve') }, { policies: { onPoweroff: 'destroy' } });
      assert.deepEqual((await d.info()).policies, { onPoweroff: 'destroy', onReboot: 'restart', onCrash: 'preserve' });
    } finally {
      await conn.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
