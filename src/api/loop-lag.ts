/**
 * Event-loop delay of the daemon: a timer asks to run every `periodMs` and records how late it ran.
 * (perf_hooks.monitorEventLoopDelay records the whole interval between its timer's runs, resolution
 * included, so its idle p50 is the resolution itself; this records only the lateness.)
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface LagFigures {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  readonly samples: number;
}

export class LoopLag {
  private hist: RecordableHistogram = createHistogram();
  private timer: NodeJS.Timeout | undefined;
  private expected = 0;

  constructor(private readonly periodMs = 2) {}

  start(): void {
    if (this.timer !== undefined) return;
    const tick = (): void => {
      const now = performance.now();
      // Lateness in microseconds (a histogram records integers >= 1).
      this.hist.record(Math.max(1, Math.round((now - this.expected) * 1000)));
      this.expected = now + this.periodMs;
      this.timer = setTimeout(tick, this.periodMs);
      this.timer.unref();
    };
    this.expected = performance.now() + this.periodMs;
    this.timer = setTimeout(tick, this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  reset(): void {
    this.hist = createHistogram();
  }

  /** Figures in milliseconds. */
  figures(): LagFigures {
    const h = this.hist;
    const ms = (us: number): number => Math.round(us) / 1000;
    if (h.count === 0) return { p50: 0, p99: 0, max: 0, mean: 0, samples: 0 };
    return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean), samples: h.count };
  }
}
