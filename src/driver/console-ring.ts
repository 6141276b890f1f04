/**
 * The last bytes a domain's serial console printed, so that a console attached late (`vmkit console`, the
 * web page) shows what came before. A circular buffer that grows by doubling up to its limit (a quiet guest
 * costs little) and copies each chunk in once.
 */
export const CONSOLE_RING_BYTES = 256 * 1024;

export class ConsoleRing {
  private buf = Buffer.alloc(0);
  /** Where the next byte goes. */
  private end = 0;
  private size = 0;

  constructor(readonly limit = CONSOLE_RING_BYTES) {}

  get length(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (chunk.length >= this.limit) {
      this.grow(this.limit);
      chunk.copy(this.buf, 0, chunk.length - this.limit);
      this.end = 0;
      this.size = this.limit;
      return;
    }
    if (this.buf.length < this.limit && this.size + chunk.length > this.buf.length) this.grow(Math.min(this.limit, Math.max(4096, 2 ** Math.ceil(Math.log2(this.size + chunk.length)))));
    const cap = this.buf.length;
    const first = Math.min(chunk.length, cap - this.end);
    chunk.copy(this.buf, this.end, 0, first);
    if (first < chunk.length) chunk.copy(this.buf, 0, first);
    this.end = (this.end + chunk.length) % cap;
    this.size = Math.min(cap, this.size + chunk.length);
  }

  /** Everything kept, oldest first (a copy). */
  contents(): Buffer {
    const cap = this.buf.length;
    if (this.size === 0) return Buffer.alloc(0);
    const start = (this.end - this.size + cap) % cap;
    if (start + this.size <= cap) return Buffer.from(this.buf.subarray(start, start + this.size));
    return Buffer.concat([this.buf.subarray(start), this.buf.subarray(0, this.end)]);
  }

  clear(): void {
    this.buf = Buffer.alloc(0);
    this.end = 0;
    this.size = 0;
  }

  /** A larger buffer holding the same bytes, oldest first at 0. */
  private grow(capacity: number): void {
    if (capacity <= this.buf.length) return;
    const kept = this.contents();
    const next = Buffer.alloc(capacity);
    kept.copy(next, 0);
    this.buf = next;
    this.size = kept.length;
    this.end = kept.length % capacity;
  }
}
