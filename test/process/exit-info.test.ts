import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyExit, type ExitFacts } from '../../src/process/exit-info.js';

const base: ExitFacts = { exitCode: 0, signal: null, powerdownRequested: false, destroyRequested: false, stderrTail: [] };

describe('classifyExit()', () => {
  it('calls a guest power-off with status 0 a shutdown', () => {
    const i = classifyExit({ ...base, shutdownEvent: { guest: true, reason: 'guest-shutdown' } });
    assert.equal(i.reason, 'shutdown');
    assert.equal(i.requested, false);
    assert.match(i.message, /powered off/);
  });
  it('notes that the power-off followed an ACPI request', () => {
    const i = classifyExit({ ...base, powerdownRequested: true, shutdownEvent: { guest: true, reason: 'guest-shutdown' } });
    assert.equal(i.reason, 'shutdown');
    assert.equal(i.requested, true);
    assert.match(i.message, /ACPI/);
  });
  it('calls an exit vmkit asked for destroyed, whatever the signal', () => {
    assert.equal(classifyExit({ ...base, exitCode: null, signal: 'SIGKILL', destroyRequested: true }).reason, 'destroyed');
  });
  it('calls an unexpected signal a crash and quotes QEMU\'s stderr', () => {
    const i = classifyExit({ ...base, exitCode: null, signal: 'SIGSEGV', stderrTail: ['boom'] });
    assert.equal(i.reason, 'crashed');
    assert.match(i.message, /SIGSEGV.*boom/);
  });
  it('calls a non-zero status a crash', () => {
    assert.equal(classifyExit({ ...base, exitCode: 1 }).reason, 'crashed');
  });
  it('calls a guest panic a crash even when QEMU exits 0', () => {
    assert.equal(classifyExit({ ...base, shutdownEvent: { guest: true, reason: 'guest-panic' } }).reason, 'crashed');
  });
});
