/**
 * The dashboard's static files, built by `npm run build` into dist/web/ (scripts/bundle.ts: esbuild over
 * web/, xterm.js and noVNC from npm; nothing from a CDN). Read once into memory on first use.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VmkitError } from '../errors.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** dist/web/ seen from dist/src/web/ (tsc output) or dist/bundle/ (the bundle). */
export function assetDir(): string {
  for (const rel of ['../../web/', '../web/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'app.js')) && existsSync(join(dir, 'index.html'))) return dir;
  }
  throw new VmkitError('NotFound', 'The web dashboard is not built (no dist/web/app.js): run `npm run build`');
}

/** Every file of the asset directory by URL path (`/`, `/app.js`, ...). */
export async function loadAssets(dir = assetDir()): Promise<Map<string, Asset>> {
  const out = new Map<string, Asset>();
  for (const name of await readdir(dir)) {
    const type = TYPES[extname(name)];
    if (type === undefined) continue;
    out.set(`/${name}`, { type, body: await readFile(join(dir, name)) });
  }
  const index = out.get('/index.html');
  if (index !== undefined) out.set('/', index);
  return out;
}
