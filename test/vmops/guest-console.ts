/** Follows the tiny guest's console (`vmkit.action=count`): its counter and its answers to requests. */
import type { EventEmitter } from 'node:events';

export interface ConsoleWatch {
  text(): string;
  /** The highest `VMKIT-COUNT n` seen so far (0: none). */
  count(): number;
  /** Every count seen, in order. */
  counts(): number[];
  waitFor(re: RegExp, ms?: number, from?: number): Promise<RegExpMatchArray>;
  /** Waits until the counter reaches at least `n`. */
  waitCount(n: number, ms?: number): Promise<void>;
  stop(): void;
}

export function watchConsole(source: EventEmitter<{ console: [Buffer] }> | { on(e: 'console', f: (c: Buffer) => void): unknown; off(e: 'console', f: (c: Buffer) => void): unknown }): ConsoleWatch {
  let text = '';
  const seen: number[] = [];
  const waiters = new Set<() => void>();
  const on = (c: Buffer): void => {
    const before = text.length;
    text += c.toString();
    // Lines may arrive in pieces: scan from the start of the last line that was incomplete.
    const start = text.lastIndexOf('\n', Math.max(0, before - 1)) + 1;
    for (const m of text.slice(start).matchAll(/VMKIT-COUNT (\d+)\r?\n/g)) seen.push(Number(m[1]));
    for (const w of [...waiters]) w();
  };
  (source as { on(e: 'console', f: (c: Buffer) => void): unknown }).on('console', on);
  const api: ConsoleWatch = {
    text: () => text,
    count: () => (seen.length === 0 ? 0 : Math.max(...seen)),
    counts: () => [...seen],
    waitFor(re, ms = 60_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = text.slice(from).match(re);
          if (m === null) return;
          waiters.delete(check);
          clearTimeout(t);
          resolve(m);
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${ms} ms waiting for ${re}; console tail:\n${text.slice(-2000)}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    waitCount(n, ms = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (api.count() < n) return;
          waiters.delete(check);
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${ms} ms waiting for VMKIT-COUNT ${n} (at ${api.count()}); console tail:\n${text.slice(-2000)}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    stop: () => {
      (source as { off(e: 'console', f: (c: Buffer) => void): unknown }).off('console', on);
    },
  };
  return api;
}

/**
 * True when every count is above the one before it: the counter never went back or repeated (no restart,
 * no replay). A count may be missing: the guest's tty echoes every request the test types (`cpus`,
 * `blocks`), and an echo can land inside a counter line, which then no longer reads as one (seen in CI:
 * 1,2,3,4,5,7,8,10,... while a test polled `cpus`).
 */
export function countsContinue(counts: readonly number[]): boolean {
  return counts.every((n, i) => i === 0 || n > (counts[i - 1] ?? 0));
}
