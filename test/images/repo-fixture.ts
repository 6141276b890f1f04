/**
 * A template repository for tests: a folder served on 127.0.0.1 by an HTTP server of the test (ranges,
 * request log, a truncated first answer or a slow one on demand), an index signed with a key made here, a
 * repos.d directory pointing at it, and an empty template cache.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearsign, generateSigningKey } from '../../src/images/signature.js';

export interface RepoServer {
  readonly url: string;
  /** Every request: path and Range header. */
  readonly requests: { path: string; range?: string }[];
  /** Files whose next full GET is cut after half of its bytes. */
  readonly truncateOnce: Set<string>;
  /** Bytes per second for template files (0: unlimited). */
  throttle: number;
  close(): Promise<void>;
}

export async function serveDir(dir: string): Promise<RepoServer> {
  const requests: { path: string; range?: string }[] = [];
  const truncateOnce = new Set<string>();
  const state = { throttle: 0 };
  const server = http.createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push({ path, ...(req.headers.range === undefined ? {} : { range: req.headers.range }) });
    const file = join(dir, path.replace(/^\/repo\//, ''));
    const st = await stat(file).catch(() => undefined);
    if (!path.startsWith('/repo/') || st === undefined || !st.isFile()) {
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m !== null) start = Number(m[1]);
    if (start >= st.size && st.size > 0) {
      res.writeHead(416, { 'Content-Range': `bytes */${st.size}` }).end();
      return;
    }
    const name = path.slice('/repo/'.length);
    const cut = m === null && truncateOnce.delete(name) ? Math.floor(st.size / 2) : undefined;
    res.writeHead(m === null ? 200 : 206, {
      'Content-Length': st.size - start,
      ...(m === null ? {} : { 'Content-Range': `bytes ${start}-${st.size - 1}/${st.size}` }),
    });
    const body = createReadStream(file, { start, ...(cut === undefined ? {} : { end: cut - 1 }), highWaterMark: 16 * 1024 });
    if (state.throttle > 0 && !name.startsWith('index')) {
      body.on('data', () => {
        body.pause();
        setTimeout(() => body.resume(), Math.ceil((16 * 1024 * 1000) / state.throttle));
      });
    }
    body.pipe(res, { end: cut === undefined });
    // Cut once the bytes sent so far are flushed and the client (in this process) has had time to read them:
    // a client's pending bytes are dropped when its connection resets.
    if (cut !== undefined) body.once('end', () => res.write('', () => setTimeout(() => res.destroy(), 50)));
    res.once('close', () => body.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/repo`,
    requests,
    truncateOnce,
    get throttle() {
      return state.throttle;
    },
    set throttle(v: number) {
      state.throttle = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestRepo {
  readonly base: string;
  readonly dir: string;
  readonly reposDir: string;
  readonly cacheDir: string;
  readonly keyFile: string;
  readonly secretKey: string;
  readonly server: RepoServer;
  /** The raw disk the template decompresses to. */
  readonly disk: Buffer;
  /** Writes `index` and its clearsigned `index.asc` (signed with `secret`, default the repository's key). */
  publish(index: string, secret?: string): Promise<void>;
  /** The repos.d .conf, pointing at `file` (default index.asc), with or without the key. */
  configure(opts?: { file?: string; key?: boolean }): Promise<void>;
  env(): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** The tiny guest's data disk as a template: 2 MiB raw with a marker, xz-compressed. */
export function testDisk(): Buffer {
  const disk = Buffer.alloc(2 * 1024 * 1024);
  disk.write('VMKIT-TEST-DISK\n', 0);
  for (let i = 4096; i < disk.length; i += 4096) disk.writeUInt32LE(i ^ 0x5a5a5a5a, i);
  return disk;
}

export async function makeRepo(prefix = 'vmkit-test-repo-'): Promise<TestRepo> {
  const base = await mkdtemp(join(tmpdir(), prefix));
  await chmod(base, 0o711);
  const dir = join(base, 'repo');
  const reposDir = join(base, 'repos.d');
  const cacheDir = join(base, 'cache');
  await mkdir(dir);
  await mkdir(reposDir);
  const disk = testDisk();
  await writeFile(join(dir, 'tiny.img'), disk);
  execFileSync('xz', ['-0', '-T1', join(dir, 'tiny.img')]);
  const keys = await generateSigningKey('vmkit test', 'test@vmkit.example');
  const keyFile = join(base, 'repo-key.asc');
  await writeFile(keyFile, keys.publicKey);
  const server = await serveDir(dir);
  const repo: TestRepo = {
    base,
    dir,
    reposDir,
    cacheDir,
    keyFile,
    secretKey: keys.privateKey,
    server,
    disk,
    async publish(index, secret = keys.privateKey) {
      await writeFile(join(dir, 'index'), index);
      await writeFile(join(dir, 'index.asc'), await clearsign(index, secret, 'test key'));
    },
    async configure(opts = {}) {
      await writeFile(join(reposDir, 'test.conf'), `[test]\nuri=${server.url}/${opts.file ?? 'index.asc'}\n${opts.key === false ? '' : `gpgkey=file://${keyFile}\n`}proxy=off\n`);
    },
    env: () => ({ ...process.env, VMKIT_REPOS_DIRS: reposDir, VMKIT_IMAGE_CACHE: cacheDir }),
    async close() {
      await server.close();
      await rm(base, { recursive: true, force: true });
    },
  };
  await repo.configure();
  return repo;
}

/** An index for the test disk (sha512 and sizes of the served file). */
export async function tinyIndex(repo: TestRepo, extra = ''): Promise<string> {
  const { createHash } = await import('node:crypto');
  const { readFile } = await import('node:fs/promises');
  const xz = await readFile(join(repo.dir, 'tiny.img.xz'));
  return [
    '[tiny]',
    'name=Tiny test guest',
    'osinfo=linux2022',
    'arch=x86_64',
    'file=tiny.img.xz',
    `checksum[sha512]=${createHash('sha512').update(xz).digest('hex')}`,
    'format=raw',
    `size=${repo.disk.length}`,
    `compressed_size=${xz.length}`,
    'notes=The tiny test guest\'s data disk.',
    ' ',
    ' It only holds a marker.',
    'notes[fr]=Le disque du petit invité.',
    'aliases=tiny-latest',
    extra,
    '',
  ].join('\n');
}
