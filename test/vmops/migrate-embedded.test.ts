import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEmbedded, type LifecycleEvent } from '../../src/index.js';
import type { Domain } from '../../src/driver/domain.js';
import { migrate } from '../../src/vmops/migration.js';
import { ACCEL_NOTE, tinyGuest, tinyYaml } from '../helpers/guest.js';
import { countsContinue, watchConsole } from './guest-console.js';

/** QEMU here runs as this process's user (embedded): post-copy needs userfaultfd, which root may always use. */
const canPostcopy = process.geteuid?.() === 0;

describe(`migration between two embedded roots in one process (real QEMU; ${ACCEL_NOTE})`, () => {
  let base: string;
  before(async () => {
    tinyGuest();
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-migemb-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  for (const mode of ['auto-converge', 'post-copy'] as const) {
    it(`${mode}: the guest moves and keeps counting${mode === 'post-copy' ? ` (post-copy ${canPostcopy ? 'available: root' : 'refused: userfaultfd needs root here'})` : ''}`, { timeout: 180_000 }, async () => {
      const a = await openEmbedded({ root: join(base, `${mode}-a`) });
      const b = await openEmbedded({ root: join(base, `${mode}-b`) });
      try {
        const src = (await a.define({ text: tinyYaml({ name: 'mv', action: 'count' }) })) as Domain;
        const ws = watchConsole(src);
        await src.start();
        await ws.waitCount(5);
        const progress: LifecycleEvent[] = [];
        a.on('event', (e) => e.type === 'progress' && progress.push(e));
        const dstEvents: LifecycleEvent[] = [];
        b.on('event', (e) => dstEvents.push(e));
        let wd: ReturnType<typeof watchConsole> | undefined;
        b.on('event', (e) => {
          if (e.type === 'defined' && wd === undefined) wd = watchConsole(b.lookup('mv'));
        });
        const run = migrate(a, src, b, mode === 'post-copy' ? { postcopy: true, bandwidthMiBs: 16 } : { autoConverge: true });
        if (mode === 'post-copy' && !canPostcopy) {
          await assert.rejects(run);
          assert.equal(src.state(), 'running');
          return;
        }
        const r = await run;
        assert.equal(r.progress.status, 'completed');
        if (mode === 'post-copy') assert.ok(progress.some((e) => e.progress?.status === 'postcopy-active'), 'switched to post-copy');
        assert.equal(src.state(), 'shutoff');
        assert.equal(src.lastStop?.reason, 'migrated');
        const dst = b.lookup('mv');
        assert.equal(dst.state(), 'running');
        assert.ok(wd !== undefined);
        await wd.waitCount(ws.count() + 3);
        assert.ok(countsContinue(wd.counts()) && (wd.counts()[0] ?? 0) > 1, `destination counts ${wd.counts().slice(0, 5).join(',')} after ${ws.count()}`);
        await dst.destroy();
      } finally {
        await a.close();
        await b.close();
      }
    });
  }
});
