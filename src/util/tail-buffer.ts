/** Keeps the last `limit` bytes written to it (QEMU's stderr, for error messages). */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit = 8192) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }

  /** The last `n` non-empty lines. */
  lines(n: number): string[] {
    return this.text().split('\n').map((l) => l.trimEnd()).filter((l) => l !== '').slice(-n);
  }
}
