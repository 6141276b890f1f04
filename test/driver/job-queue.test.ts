import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobQueue } from '../../src/driver/job-queue.js';

describe('JobQueue', () => {
  it('runs jobs one at a time in the order they were queued', async () => {
    const q = new JobQueue();
    const log: string[] = [];
    let active = 0;
    const job = (name: string, ms: number) => async () => {
      active++;
      assert.equal(active, 1, 'never two jobs at once');
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      active--;
      return name;
    };
    const results = await Promise.all([q.run('a', job('a', 20)), q.run('b', job('b', 1)), q.run('c', job('c', 5))]);
    assert.deepEqual(results, ['a', 'b', 'c']);
    assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    assert.equal(q.size, 0);
  });

  it('a failing job rejects its caller and does not stop the jobs behind it', async () => {
    const q = new JobQueue();
    const failed = q.run('bad', () => Promise.reject(new Error('boom')));
    const ok = q.run('good', () => Promise.resolve(42));
    await assert.rejects(failed, /boom/);
    assert.equal(await ok, 42);
  });

  it('reports the running job by name', async () => {
    const q = new JobQueue();
    let seen: string | undefined;
    await q.run('start', () => {
      seen = q.running;
      return Promise.resolve();
    });
    assert.equal(seen, 'start');
    assert.equal(q.running, undefined);
  });
});
