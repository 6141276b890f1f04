/** A small line chart on a canvas: the last N points of a few series, scaled to the largest value shown. */
export class LineChart {
  private readonly series: number[][];

  constructor(private readonly canvas: HTMLCanvasElement, private readonly colours: readonly string[], private readonly points = 60) {
    this.series = colours.map(() => []);
  }

  push(values: readonly number[]): void {
    values.forEach((v, i) => {
      const s = this.series[i];
      if (s === undefined) return;
      s.push(v);
      if (s.length > this.points) s.shift();
    });
    this.canvas.dataset['points'] = String(this.series[0]?.length ?? 0);
    this.draw();
  }

  clear(): void {
    for (const s of this.series) s.length = 0;
    this.draw();
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (ctx === null) return;
    const { width, height } = this.canvas;
    ctx.clearRect(0, 0, width, height);
    const max = Math.max(1, ...this.series.flat());
    ctx.fillStyle = '#666';
    ctx.font = '10px sans-serif';
    ctx.fillText(formatShort(max), 2, 10);
    this.series.forEach((s, i) => {
      ctx.strokeStyle = this.colours[i] ?? '#000';
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      s.forEach((v, x) => {
        const px = (x / (this.points - 1)) * (width - 1);
        const py = height - 1 - (v / max) * (height - 14);
        if (x === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      });
      ctx.stroke();
    });
  }
}

export function formatShort(n: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}
