/**
 * A domain's serial console for web viewers: any number watch, one writes. A viewer gets the kept output
 * first (the domain's ring buffer), then live output, coalesced to one websocket message per event-loop
 * turn; a viewer that stops reading (over MAX_BACKLOG unsent) misses output rather than growing a buffer.
 * The keyboard goes to the first viewer that asks; when the writer leaves (or releases), it is free for
 * the next to claim. Input from a viewer without it is dropped.
 *
 * Frames: binary both ways is console bytes; text frames are JSON control messages: from the browser
 * `{"type":"claim"}` / `{"type":"release"}`; to it `{"type":"role","writer":bool,"held":bool,"viewers":n}`.
 */
import type { WebSocket } from 'ws';
import type { Domain } from '../driver/domain.js';

const MAX_BACKLOG = 1024 * 1024;

export class ConsoleHub {
  private readonly viewers = new Set<WebSocket>();
  private writer: WebSocket | undefined;
  private pending: Buffer[] = [];
  private flushing = false;
  private readonly onOutput = (chunk: Buffer): void => {
    this.pending.push(chunk);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
    }
  };

  constructor(readonly domain: Domain, private readonly onEmpty: () => void) {}

  get size(): number {
    return this.viewers.size;
  }

  add(ws: WebSocket, wantsKeyboard: boolean): void {
    if (this.viewers.size === 0) this.domain.on('console', this.onOutput);
    // Kept output, then (from this same turn on) live output: nothing missed, nothing twice.
    this.flush();
    const history = this.domain.consoleHistory();
    if (history.length > 0) ws.send(history, { binary: true });
    this.viewers.add(ws);
    if (wantsKeyboard && this.writer === undefined) this.writer = ws;
    this.announce();
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        if (this.writer !== ws) return this.announce(ws);
        try {
          this.domain.writeConsole(Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]));
        } catch {
          // not running: the state shows it
        }
        return;
      }
      let msg: { type?: unknown };
      try {
        msg = JSON.parse(String(data)) as { type?: unknown };
      } catch {
        return;
      }
      if (msg.type === 'claim' && this.writer === undefined) this.writer = ws;
      else if (msg.type === 'release' && this.writer === ws) this.writer = undefined;
      this.announce();
    });
    ws.once('close', () => this.remove(ws));
  }

  close(): void {
    for (const ws of this.viewers) ws.close(1001, 'vmkit daemon stopping');
  }

  private remove(ws: WebSocket): void {
    if (!this.viewers.delete(ws)) return;
    if (this.writer === ws) this.writer = undefined;
    if (this.viewers.size === 0) {
      this.domain.off('console', this.onOutput);
      this.pending = [];
      this.onEmpty();
    } else {
      this.announce();
    }
  }

  private flush(): void {
    this.flushing = false;
    if (this.pending.length === 0) return;
    const data = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    this.pending = [];
    for (const ws of this.viewers) {
      if (ws.readyState === ws.OPEN && ws.bufferedAmount < MAX_BACKLOG) ws.send(data, { binary: true });
    }
  }

  /** Tells each viewer (or one) whether it has the keyboard and whether someone has. */
  private announce(only?: WebSocket): void {
    for (const ws of only === undefined ? this.viewers : [only]) {
      if (ws.readyState !== ws.OPEN) continue;
      ws.send(JSON.stringify({ type: 'role', writer: this.writer === ws, held: this.writer !== undefined, viewers: this.viewers.size }));
    }
  }
}
