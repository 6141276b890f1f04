/**
 * `conn.images` and `conn.volumes` of a daemon client: the same interfaces as embedded. Paths the client
 * names (a build's output, an overlay's base) are sent as they are and the daemon decides (root clients
 * only); files the customizations need (uploads, keys) are read by the caller, never by the daemon.
 */
import http from 'node:http';
import { VmkitError } from '../errors.js';
import type { BuildOptions, BuildResult, CachedImage, GetOptions, ImageCatalog, ImagesApi, Progress, RepoOptions, TemplateNotes, VolumeInfo, VolumesApi } from '../images/types.js';
import { errorFromBody, httpStatusFor, type ErrorBody } from './http-errors.js';
import type { Transport } from './transport.js';

const RANDOM_PASSWORD = '\u0000random';

export class RemoteImages implements ImagesApi {
  constructor(private readonly t: Transport) {}

  list(opts: RepoOptions = {}): Promise<ImageCatalog> {
    return this.t.request('GET', `/v1/images${opts.noCheckSignature === true ? '?noCheckSignature=1' : ''}`, undefined, { timeoutMs: 600_000 });
  }

  notes(id: string, opts: RepoOptions & { arch?: string } = {}): Promise<{ id: string; arch: string; notes: readonly TemplateNotes[] }> {
    const q = new URLSearchParams({ ...(opts.arch === undefined ? {} : { arch: opts.arch }), ...(opts.noCheckSignature === true ? { noCheckSignature: '1' } : {}) }).toString();
    return this.t.request('GET', `/v1/images/${encodeURIComponent(id)}/notes${q === '' ? '' : `?${q}`}`, undefined, { timeoutMs: 600_000 });
  }

  cached(): Promise<CachedImage[]> {
    return this.t.request('GET', '/v1/images/cache');
  }

  get(id: string, opts: GetOptions = {}): Promise<CachedImage> {
    const body = { ...(opts.arch === undefined ? {} : { arch: opts.arch }), ...(opts.noCheckSignature === undefined ? {} : { noCheckSignature: opts.noCheckSignature }) };
    return ndjson<CachedImage>(this.t.socketPath, `/v1/images/${encodeURIComponent(id)}/get`, body, opts);
  }

  build(id: string, opts: BuildOptions): Promise<BuildResult> {
    const c = opts.customize;
    const customize = c === undefined ? undefined : { ...c, ...(c.rootPassword === RANDOM_PASSWORD ? { rootPassword: undefined, randomRootPassword: true } : {}) };
    const body = {
      ...(opts.arch === undefined ? {} : { arch: opts.arch }),
      ...(opts.noCheckSignature === undefined ? {} : { noCheckSignature: opts.noCheckSignature }),
      output: opts.output,
      ...(opts.format === undefined ? {} : { format: opts.format }),
      ...(opts.standalone === undefined ? {} : { standalone: opts.standalone }),
      ...(opts.size === undefined ? {} : { size: opts.size }),
      ...(customize === undefined ? {} : { customize: JSON.parse(JSON.stringify(customize)) as object }),
    };
    return ndjson<BuildResult>(this.t.socketPath, `/v1/images/${encodeURIComponent(id)}/build`, body, opts);
  }
}

export class RemoteVolumes implements VolumesApi {
  constructor(private readonly t: Transport) {}

  list(): Promise<VolumeInfo[]> {
    return this.t.request('GET', '/v1/volumes');
  }

  info(name: string): Promise<VolumeInfo> {
    return this.t.request('GET', `/v1/volumes/${encodeURIComponent(name)}`);
  }

  create(name: string, opts: { size: number; format?: 'raw' | 'qcow2' }): Promise<VolumeInfo> {
    return this.t.request('POST', '/v1/volumes', { name, ...opts }, { timeoutMs: 600_000 });
  }

  overlay(name: string, opts: Parameters<VolumesApi['overlay']>[1]): Promise<VolumeInfo> {
    return this.t.request('POST', '/v1/volumes', { name, backing: opts.backing, ...(opts.size === undefined ? {} : { size: opts.size }) });
  }

  resize(name: string, opts: { size: number; shrink?: boolean }): Promise<VolumeInfo> {
    return this.t.request('POST', `/v1/volumes/${encodeURIComponent(name)}/resize`, opts, { timeoutMs: 600_000 });
  }

  async delete(name: string): Promise<void> {
    await this.t.request('DELETE', `/v1/volumes/${encodeURIComponent(name)}`);
  }
}

/** POSTs `body` and reads the NDJSON answer: progress to `onProgress`, then the result or the error. */
function ndjson<T>(socketPath: string, path: string, body: object, opts: { signal?: AbortSignal; onProgress?: (p: Progress) => void }): Promise<T> {
  const payload = JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const done = (f: () => void): void => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      f();
    };
    const req = http.request({ socketPath, method: 'POST', path, agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } }, (res) => {
      let buffered = '';
      res.setEncoding('utf8');
      if (res.statusCode !== 200) {
        res.on('data', (s: string) => (buffered += s));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(buffered);
          } catch {
            parsed = undefined;
          }
          done(() => reject(errorFromBody(res.statusCode ?? 0, parsed)));
        });
        return;
      }
      res.on('data', (s: string) => {
        buffered += s;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.trim() === '') continue;
          let msg: { type?: string; result?: T; error?: ErrorBody['error'] } & Record<string, unknown>;
          try {
            msg = JSON.parse(line) as typeof msg;
          } catch {
            continue;
          }
          if (msg.type === 'progress') {
            const { type: _t, ...p } = msg;
            opts.onProgress?.(p as unknown as Progress);
          } else if (msg.type === 'result') done(() => resolve(msg.result as T));
          else if (msg.type === 'error' && msg.error !== undefined) {
            const err = msg.error;
            done(() => reject(errorFromBody(httpStatusFor(err.code), { error: err })));
          }
        }
      });
      res.on('end', () => done(() => reject(new VmkitError('HostError', `The vmkit daemon ended ${path} without a result`))));
      res.on('error', (e) => done(() => reject(new VmkitError('HostError', `Lost the vmkit daemon during ${path}: ${e.message}`, { cause: e }))));
    });
    const onAbort = (): void => {
      req.destroy();
      done(() => reject(new VmkitError('Aborted', `${path} was interrupted`)));
    };
    if (opts.signal?.aborted === true) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e) => done(() => reject(new VmkitError('HostError', `Cannot reach the vmkit daemon at ${socketPath}: ${e.message}`, { cause: e }))));
    req.end(payload);
  });
}
