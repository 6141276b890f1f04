/**
 * Domain changes for the dashboard: every state change (starting and shutting-down included, which are not
 * lifecycle events) and every define/undefine, as the domain's snapshot, coalesced per event-loop turn.
 */
import type { DomainInfo, LifecycleEvent } from '../driver/api-types.js';
import type { Connection } from '../driver/connection.js';
import type { Domain } from '../driver/domain.js';

export interface FeedUpdate {
  readonly type: 'domains';
  readonly domains: readonly DomainInfo[];
  readonly removed: readonly string[];
}

export class DomainFeed {
  private readonly listeners = new Set<(u: FeedUpdate) => void>();
  private readonly watched = new WeakSet<Domain>();
  private changed = new Set<string>();
  private removed = new Set<string>();
  private scheduled = false;
  private readonly onEvent = (ev: LifecycleEvent): void => {
    if (ev.type === 'undefined') {
      this.removed.add(ev.domain);
      this.changed.delete(ev.domain);
    } else {
      this.watch(this.conn.list().find((d) => d.name === ev.domain));
      this.changed.add(ev.domain);
      this.removed.delete(ev.domain);
    }
    this.schedule();
  };

  constructor(private readonly conn: Connection) {
    for (const d of conn.list()) this.watch(d);
    conn.on('event', this.onEvent);
  }

  snapshot(): FeedUpdate {
    return { type: 'domains', domains: this.conn.list().map((d) => d.snapshot()), removed: [] };
  }

  subscribe(fn: (u: FeedUpdate) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close(): void {
    this.conn.off('event', this.onEvent);
    this.listeners.clear();
  }

  private watch(d: Domain | undefined): void {
    if (d === undefined || this.watched.has(d)) return;
    this.watched.add(d);
    d.on('state', () => {
      if (d.isRemoved) return;
      this.changed.add(d.name);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const domains = this.conn.list().filter((d) => this.changed.has(d.name)).map((d) => d.snapshot());
      const update: FeedUpdate = { type: 'domains', domains, removed: [...this.removed] };
      this.changed = new Set();
      this.removed = new Set();
      if (update.domains.length === 0 && update.removed.length === 0) return;
      for (const fn of this.listeners) fn(update);
    });
  }
}
