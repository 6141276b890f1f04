/**
 * The daemon's image and volume endpoints. Downloads and builds answer with an NDJSON stream: progress events
 * (`{"type":"progress",...}`), then one `{"type":"result","result":...}` or `{"type":"error","error":...}`;
 * a client that goes away interrupts the operation (nothing half-made is left). The caller's uid comes from
 * SO_PEERCRED, never from the request: a client that is not root cannot make the daemon read or write a host
 * path (build outputs and overlay bases are then volumes or templates).
 *
 *   GET    /v1/images                  every repository's templates (?noCheckSignature=1)
 *   GET    /v1/images/cache            templates in the cache
 *   GET    /v1/images/{id}/notes       a template's notes (?arch=&noCheckSignature=1)
 *   POST   /v1/images/{id}/get         download into the cache (NDJSON)
 *   POST   /v1/images/{id}/build       a disk (and a cloud-init seed) from a template (NDJSON)
 *   GET    /v1/volumes                 volumes of the root
 *   POST   /v1/volumes                 create one (with `backing`: a qcow2 overlay)
 *   GET    /v1/volumes/{name}          one volume
 *   POST   /v1/volumes/{name}/resize   grow (or shrink) it
 *   DELETE /v1/volumes/{name}          remove it
 */
import type http from 'node:http';
import type { TSchema } from '@sinclair/typebox';
import { VmkitError } from '../errors.js';
import type { ImagesApi, VolumesApi } from '../images/types.js';
import { errorBody } from './http-errors.js';
import { parseJsonBody, readBody } from './request-body.js';
import { restrictedCaller } from './peer-cred.js';
import { ImageBuildBody, ImageGetBody, validateBody, VolumeCreateBody, VolumeResizeBody } from './schemas.js';

export interface StorageApis {
  readonly images: ImagesApi;
  readonly volumes: VolumesApi;
}

/** True for the paths this module serves. */
export function isStorageRoute(pathname: string): boolean {
  return /^\/v1\/(images|volumes)(\/|$)/.test(pathname);
}

const MAX_BODY = 12 * 1024 * 1024;
const RANDOM_PASSWORD = '\u0000random';

/** Serves one request on `res` (JSON, or NDJSON for downloads and builds). */
export async function serveStorage(apis: StorageApis, req: http.IncomingMessage, res: http.ServerResponse, url: URL, log?: (line: string) => void): Promise<void> {
  const method = req.method ?? 'GET';
  const parts = url.pathname.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  const caller = restrictedCaller(req.socket as import('node:net').Socket);
  const flag = (k: string): boolean => url.searchParams.get(k) === '1' || url.searchParams.get(k) === 'true';
  try {
    if (parts[1] === 'images') {
      const id = parts[2];
      if (parts.length === 2 && method === 'GET') return json(res, 200, await apis.images.list({ noCheckSignature: flag('noCheckSignature') }));
      if (parts.length === 3 && id === 'cache' && method === 'GET') return json(res, 200, await apis.images.cached());
      if (parts.length === 4 && id !== undefined && parts[3] === 'notes' && method === 'GET') {
        const arch = url.searchParams.get('arch') ?? undefined;
        return json(res, 200, await apis.images.notes(id, { noCheckSignature: flag('noCheckSignature'), ...(arch === undefined ? {} : { arch }) }));
      }
      if (parts.length === 4 && id !== undefined && parts[3] === 'get' && method === 'POST') {
        const b = await body(req, ImageGetBody);
        return stream(req, res, log, (signal, onProgress) => apis.images.get(id, { ...b, signal, onProgress }));
      }
      if (parts.length === 4 && id !== undefined && parts[3] === 'build' && method === 'POST') {
        const b = await body(req, ImageBuildBody);
        const { randomRootPassword, ...customize } = b.customize ?? {};
        return stream(req, res, log, (signal, onProgress) =>
          apis.images.build(id, {
            ...b,
            ...(b.customize === undefined ? {} : { customize: { ...customize, ...(randomRootPassword === true ? { rootPassword: RANDOM_PASSWORD } : {}) } }),
            ...(caller === undefined ? {} : { caller }),
            signal,
            onProgress,
          }),
        );
      }
    }
    if (parts[1] === 'volumes') {
      const name = parts[2];
      if (parts.length === 2 && method === 'GET') return json(res, 200, await apis.volumes.list());
      if (parts.length === 2 && method === 'POST') {
        const b = await body(req, VolumeCreateBody);
        if (b.backing !== undefined) return json(res, 201, await apis.volumes.overlay(b.name, { backing: b.backing, ...(b.size === undefined ? {} : { size: b.size }), ...(caller === undefined ? {} : { caller }) }));
        if (b.size === undefined) throw new VmkitError('InvalidArgument', 'A new volume needs a size (or a backing image)');
        return json(res, 201, await apis.volumes.create(b.name, { size: b.size, ...(b.format === undefined ? {} : { format: b.format }) }));
      }
      if (parts.length === 3 && name !== undefined && method === 'GET') return json(res, 200, await apis.volumes.info(name));
      if (parts.length === 3 && name !== undefined && method === 'DELETE') {
        await apis.volumes.delete(name);
        return json(res, 200, { name });
      }
      if (parts.length === 4 && name !== undefined && parts[3] === 'resize' && method === 'POST') return json(res, 200, await apis.volumes.resize(name, await body(req, VolumeResizeBody)));
    }
    throw new VmkitError('NotFound', `No endpoint ${method} ${url.pathname}: see GET /openapi.json`, { details: { method, path: url.pathname } });
  } catch (e) {
    const { status, body: b } = errorBody(e);
    if (status === 500) log?.(`internal error on ${method} ${url.pathname}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    if (!res.headersSent) json(res, status, b);
    else res.end();
  }
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Runs `op` and streams its progress and outcome as NDJSON; the client's going away aborts it. */
async function stream(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  log: ((line: string) => void) | undefined,
  op: (signal: AbortSignal, onProgress: (p: object) => void) => Promise<unknown>,
): Promise<void> {
  const abort = new AbortController();
  const gone = (): void => {
    if (!res.writableEnded) abort.abort(new VmkitError('Aborted', 'The client went away'));
  };
  res.once('close', gone);
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' });
  const line = (v: object): void => {
    if (!res.destroyed) res.write(`${JSON.stringify(v)}\n`);
  };
  try {
    const result = await op(abort.signal, (p) => line({ type: 'progress', ...p }));
    line({ type: 'result', result });
  } catch (e) {
    const { status, body: b } = errorBody(e);
    if (status === 500) log?.(`internal error in a storage stream: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    line({ type: 'error', ...b });
  } finally {
    res.off('close', gone);
    res.end();
  }
}

async function body<T extends TSchema>(req: http.IncomingMessage, schema: T): Promise<import('@sinclair/typebox').Static<T>> {
  return validateBody(schema, parseJsonBody(await readBody(req, MAX_BODY)));
}
