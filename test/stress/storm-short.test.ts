import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runStorm } from './storm.js';

describe('stress storm, short form (npm run stress runs the long one)', () => {
  it('start/destroy loops, define/undefine races, client churn, random QEMU kills and a daemon SIGKILL leave no deadlock, crash, leak or disagreement', { timeout: 180_000 }, async () => {
    const report = await runStorm({ seconds: 12, domains: 6, clients: 4, definers: 3, daemonKills: 1, qemuKillMs: 500, log: (l) => process.stderr.write(`${l}\n`) });
    assert.deepEqual(report.unexpected, []);
    assert.deepEqual(report.violations, []);
    assert.ok((report.ops.start ?? 0) >= 6, `start/destroy loops made progress (at least one start per domain on average; a deadlock stops them): ${JSON.stringify(report.ops)}`);
    assert.ok((report.ops.define ?? 0) > 10 && (report.ops.undefine ?? 0) > 0, 'define/undefine made progress');
    assert.ok((report.ops.connect ?? 0) > 10, 'clients connected and disconnected');
    assert.ok(report.qemuKills > 0, 'QEMU processes were killed');
    assert.equal(report.daemonRestarts.length, 1, 'the daemon was killed and restarted');
    assert.ok((report.daemonRestarts[0]?.adopted ?? 0) >= 2, 'the restarted daemon re-adopted the running VMs');
  });
});
