/**
 * A per-domain job queue: jobs run one at a time, in the order they were queued, each to completion (a
 * failed job does not stop the ones behind it). There is no global lock: every domain has its own queue,
 * so any number of domains make progress in parallel.
 */
export class JobQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private current: string | undefined;

  /** Number of jobs queued or running. */
  get size(): number {
    return this.pending;
  }

  /** What runs now, for error messages and `show`. */
  get running(): string | undefined {
    return this.current;
  }

  /** Queues `job`; resolves or rejects with its outcome once it has run. */
  run<T>(name: string, job: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(async () => {
      this.current = name;
      try {
        return await job();
      } finally {
        this.current = undefined;
        this.pending--;
      }
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every job queued so far has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
