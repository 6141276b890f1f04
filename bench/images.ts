/**
 * Image benchmarks (for `npm run bench`; the runner calls imagesBench(), or run alone: `node dist/bench/images.js`):
 *  - download + verify + decompress: `vmkit image get` of an xz template (index fetched and its signature
 *    checked, SHA-512 of the download, xz decompressed while streaming, written to the cache) against
 *    `curl -s URL | xz -d | sha512sum` of the same file from the same loopback server (a separate process),
 *    alternating; target: vmkit's throughput ≥ 0.9 of the pipeline's (time ratio ≤ 1/0.9);
 *  - overlay creation: `conn.volumes.overlay()` on a cached template, target ≤ 30 ms (qemu-img create of the
 *    same overlay shown for comparison).
 * BENCH_IMAGE_MIB sets the template's size (default 256: a quarter random, the rest zeros).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ImageService } from '../src/images/service.js';
import { generateSigningKey } from '../src/images/signature.js';
import { VolumeService } from '../src/storage/volumes.js';
import { alternate, summarize, type Row, type Summary } from './stats.js';

export interface ImagesBenchResult {
  readonly markdown: string;
  /** The download comparison as a time ratio (vmkit/pipeline, target 1/0.9) for the runner's table. */
  readonly rows: readonly Row[];
  readonly download: { readonly bare: Summary; readonly vmkit: Summary; readonly mib: number; readonly ratio: number };
  readonly overlayMs: Summary;
  readonly qemuImgMs: Summary;
}

const SERVER = `
const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
const dir = process.argv[1];
const s = http.createServer((req, res) => {
  const f = path.join(dir, path.basename(decodeURIComponent(new URL(req.url, 'http://x').pathname)));
  fs.stat(f, (e, st) => {
    if (e) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Length': st.size });
    fs.createReadStream(f, { highWaterMark: 1 << 20 }).pipe(res);
  });
});
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

async function startServer(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['-e', SERVER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (c: Buffer) => resolve(c.toString().trim()));
    child.once('exit', () => reject(new Error('the bench server exited')));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

function timeShell(cmd: string): number {
  const t0 = performance.now();
  execFileSync('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
  return performance.now() - t0;
}

export async function imagesBench(opts: { runs?: number } = {}): Promise<ImagesBenchResult> {
  const runs = opts.runs ?? 5;
  const mib = Number(process.env.BENCH_IMAGE_MIB ?? 256);
  const base = await mkdtemp(join(tmpdir(), 'vmkit-bench-images-'));
  const repoDir = join(base, 'repo');
  const reposDir = join(base, 'repos.d');
  await mkdir(repoDir);
  await mkdir(reposDir);
  let server: { child: ChildProcess; url: string } | undefined;
  try {
    process.stderr.write(`bench: images: making a ${mib} MiB template (xz)\n`);
    const img = Buffer.alloc(mib * 1024 * 1024);
    randomBytes(img.length / 4).copy(img, 0);
    await writeFile(join(repoDir, 'bench.img'), img);
    execFileSync('xz', ['-1', '-T0', join(repoDir, 'bench.img')]);
    const keys = await generateSigningKey('bench', 'bench@vmkit.example');
    await writeFile(join(base, 'key.asc'), keys.publicKey);
    const { publishIndex } = await import('../src/images/publish.js');
    await writeFile(join(base, 'sec.asc'), keys.privateKey);
    await publishIndex(repoDir, { signKey: join(base, 'sec.asc'), arch: 'x86_64' });
    server = await startServer(repoDir);
    await writeFile(join(reposDir, 'bench.conf'), `[bench]\nuri=${server.url}/index.asc\ngpgkey=file://${join(base, 'key.asc')}\nproxy=off\n`);
    const url = `${server.url}/bench.img.xz`;
    const bareOnce = (): number => timeShell(`curl -s ${url} | xz -d | sha512sum >/dev/null`);
    let n = 0;
    const vmkitOnce = async (): Promise<number> => {
      const cacheDir = join(base, `cache${n++}`);
      const service = new ImageService({ cacheDir, repoDirs: [reposDir] });
      const t0 = performance.now();
      await service.get('bench', { arch: 'x86_64' });
      const ms = performance.now() - t0;
      await rm(cacheDir, { recursive: true, force: true });
      return ms;
    };
    // Time ratio vmkit/pipeline ≤ 1/0.9 ⇔ throughput ratio ≥ 0.9.
    const row = await alternate(`download + verify + decompress, ${mib} MiB xz template over loopback HTTP: \`curl \\| xz -d \\| sha512sum\` vs \`image get\` (time ratio; throughput ≥ 0.9)`, 1 / 0.9, runs, async () => bareOnce(), vmkitOnce);
    const bare = row.bare;
    const vmkit = row.vmkit;
    const ratio = bare.median / vmkit.median;
    process.stderr.write(`bench: images: download+verify+decompress ${mib} MiB: pipeline ${bare.median.toFixed(0)} ms, vmkit ${vmkit.median.toFixed(0)} ms (throughput ratio ${ratio.toFixed(3)})\n`);

    // Overlays on the cached template.
    const cacheDir = join(base, 'cache-overlay');
    const service = new ImageService({ cacheDir, repoDirs: [reposDir] });
    const cached = await service.get('bench', { arch: 'x86_64' });
    const vols = new VolumeService({ dir: join(base, 'volumes'), findImage: async () => ({ path: cached.path, format: cached.format }) });
    const ov: number[] = [];
    const qi: number[] = [];
    for (let i = 0; i < Math.max(20, runs * 4); i++) {
      let t0 = performance.now();
      await vols.overlay(`ov${i}`, { backing: { image: 'bench' }, size: 20 * 1024 ** 3 });
      ov.push(performance.now() - t0);
      t0 = performance.now();
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', cached.path, join(base, `qi${i}.qcow2`), String(20 * 1024 ** 3)]);
      qi.push(performance.now() - t0);
    }
    const overlayMs = summarize(ov);
    const qemuImgMs = summarize(qi);
    const f = (s: Summary): string => `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
    const markdown = [
      '| measurement | baseline median (min–max) | vmkit median (min–max) | result | target |',
      '| --- | --- | --- | --- | --- |',
      `| download + verify + decompress, ${mib} MiB template (xz, loopback HTTP), ms | \`curl \\| xz -d \\| sha512sum\` ${f(bare)} | \`image get\` ${f(vmkit)} | throughput ratio ${ratio.toFixed(3)} (${((mib / vmkit.median) * 1000).toFixed(0)} MiB/s) | ≥ 0.90 ${ratio >= 0.9 ? '✓' : '✗'} |`,
      `| overlay creation (qcow2 on the cached template), ms | \`qemu-img create\` ${f(qemuImgMs)} | \`volumes.overlay()\` ${f(overlayMs)} | ${overlayMs.median.toFixed(1)} ms | ≤ 30 ms ${overlayMs.median <= 30 ? '✓' : '✗'} |`,
    ].join('\n');
    return { markdown, rows: [row], download: { bare, vmkit, mib, ratio }, overlayMs, qemuImgMs };
  } finally {
    server?.child.kill();
    await rm(base, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) {
  imagesBench({ runs: Number(process.env.BENCH_RUNS ?? 5) }).then(
    (r) => process.stdout.write(`${r.markdown}\n`),
    (e: unknown) => {
      process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
