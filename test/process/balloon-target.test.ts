import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openEmbedded } from '../../src/index.js';
import type { DomainSpec } from '../../src/model/domain.js';
import { setBalloonTarget } from '../../src/process/balloon-target.js';
import type { QmpClient } from '../../src/qmp/index.js';
import { killQemusUnder, pausedYaml } from '../driver/fixtures.js';
import { baseSpec } from '../qemu/fixtures.js';

function recordingQmp(): { qmp: QmpClient; calls: [string, unknown][] } {
  const calls: [string, unknown][] = [];
  const qmp = { execute: async (cmd: string, args?: unknown) => void calls.push([cmd, args]) } as unknown as QmpClient;
  return { qmp, calls };
}

describe('balloon target at start (<currentMemory> below <memory>)', () => {
  it('sends QMP balloon with the target in bytes, and nothing without a target', async () => {
    const signal = new AbortController().signal;
    const withTarget: DomainSpec = { ...baseSpec(), memoryMiB: 1024, currentMemoryMiB: 768, balloon: { autodeflate: false, freePageReporting: false } };
    const a = recordingQmp();
    await setBalloonTarget(withTarget, a.qmp, signal);
    assert.deepEqual(a.calls, [['balloon', { value: 768 * 1024 * 1024 }]]);
    const b = recordingQmp();
    await setBalloonTarget(baseSpec(), b.qmp, signal);
    assert.deepEqual(b.calls, []);
  });

  it('QEMU accepts the target while paused (the balloon device exists before the guest runs)', { timeout: 60_000 }, async () => {
    const root = await mkdtemp(join(tmpdir(), 'vmkit-test-balloon-'));
    const conn = await openEmbedded({ root });
    try {
      const d = await conn.define({ text: `${pausedYaml('ballooned', '128M')}\nballoon: true\ncurrent_memory: 96M\n` });
      assert.equal(d.spec.currentMemoryMiB, 96);
      await d.start({ paused: true });
      assert.equal(d.state(), 'paused');
      await d.destroy({ graceMs: 0 });
    } finally {
      await conn.close();
      await killQemusUnder(root);
      await rm(root, { recursive: true, force: true });
    }
  });
});
