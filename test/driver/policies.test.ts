import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VmkitError } from '../../src/errors.js';
import { DEFAULT_POLICIES, policyArgs, resolvePolicies } from '../../src/driver/policies.js';

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
});
