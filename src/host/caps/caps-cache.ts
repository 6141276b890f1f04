/**
 * CapsCache: QEMU capabilities probed lazily, once per binary and host state.
 *
 * lookup(binary):
 *  1. resolves a bare name on PATH (access(2) only) and reads the cache key: stat(2) of the binary, the
 *     kernel release, access(2) on /dev/kvm;
 *  2. returns the in-memory entry for that exact key (the warm path: a few syscalls, no file read);
 *  3. else reads `<cacheDir>/qemu-<hash of path>.json` and uses it when its key matches and it is well formed;
 *  4. else probes the binary (one QEMU process, one QMP session) and writes the entry atomically.
 * A stale or corrupt file is re-probed and replaced, never trusted. Concurrent look-ups of the same key share
 * one promise, hence one probe. Each caller's own `signal`/`timeoutMs` bound only its wait; the shared probe
 * runs to its own bound (`probeTimeoutMs`) so that one impatient caller does not fail the others.
 */
import { join } from 'node:path';
import { VmkitError } from '../../errors.js';
import { bounded } from '../../qmp/bounded.js';
import { readCacheFile, writeCacheFile } from './cache-file.js';
import { cacheFileName, keyString, readCapsKey, type CapsKey } from './cache-key.js';
import { realHostFacts, type HostFactsReader } from './host-facts.js';
import { resolveBinary } from './resolve-binary.js';
import { DEFAULT_PROBE_TIMEOUT_MS, probeQemu, type ProbeFn } from './probe.js';
import type { QemuCaps } from './types.js';

export interface CapsCacheOptions {
  /** Directory of the cache files (created on first write, mode 0700). */
  readonly cacheDir: string;
  /** Host facts the key is made of; default: the real host. */
  readonly facts?: HostFactsReader;
  /** The probe; default: probeQemu. Tests pass a counting wrapper or a fake. */
  readonly probe?: ProbeFn;
  /** Bound on one probe. Default 20 s. */
  readonly probeTimeoutMs?: number;
  /** PATH for resolving bare binary names, and QEMU's environment for the probe. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface LookupOptions {
  readonly signal?: AbortSignal;
  /** Bound on this caller's wait. Default: no bound beyond the probe's own. */
  readonly timeoutMs?: number;
}

/** Where the last look-up's answer came from; counters for tests and benchmarks. */
export interface CapsCacheStats {
  memoryHits: number;
  fileHits: number;
  probes: number;
  /** Cache files that were there but refused (stale key or corrupt content). */
  refused: number;
}

export class CapsCache {
  readonly cacheDir: string;
  readonly stats: CapsCacheStats = { memoryHits: 0, fileHits: 0, probes: 0, refused: 0 };
  readonly #facts: HostFactsReader;
  readonly #probe: ProbeFn;
  readonly #probeTimeoutMs: number;
  readonly #env: NodeJS.ProcessEnv;
  /** binary path -> the entry for its current key (one per binary: a new key replaces the old). */
  readonly #memo = new Map<string, { key: string; caps: QemuCaps }>();
  readonly #inflight = new Map<string, Promise<QemuCaps>>();

  constructor(opts: CapsCacheOptions) {
    this.cacheDir = opts.cacheDir;
    this.#facts = opts.facts ?? realHostFacts();
    this.#probe = opts.probe ?? probeQemu;
    this.#probeTimeoutMs = opts.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    this.#env = opts.env ?? process.env;
  }

  /**
   * The capabilities of `binary` (a name looked up on PATH, or a path). Rejects with NotFound when the
   * binary does not exist, QemuFailed when it cannot be probed, Timeout/Aborted per `opts`.
   * The result is deep-frozen and shared: do not modify it.
   */
  async lookup(binary: string, opts: LookupOptions = {}): Promise<QemuCaps> {
    const path = await this.resolve(binary);
    let key: CapsKey;
    try {
      key = await readCapsKey(path, this.#facts);
    } catch (e) {
      throw new VmkitError('NotFound', `Cannot read QEMU binary ${path}: ${(e as Error).message}`, { cause: e, details: { binary: path } });
    }
    const k = keyString(key);
    const memo = this.#memo.get(path);
    if (memo !== undefined && memo.key === k) {
      this.stats.memoryHits++;
      return memo.caps;
    }
    let shared = this.#inflight.get(k);
    if (shared === undefined) {
      shared = this.#load(key, k).finally(() => this.#inflight.delete(k));
      this.#inflight.set(k, shared);
    }
    if (opts.signal === undefined && opts.timeoutMs === undefined) return shared;
    const s = shared;
    return bounded<QemuCaps>(
      { what: `looking up the capabilities of ${path}`, timeoutMs: opts.timeoutMs ?? Infinity, signal: opts.signal, details: { binary: path } },
      (resolve, reject) => {
        s.then(resolve, reject);
      },
    );
  }

  /** The cached capabilities of `binary` when a valid entry exists (memory or file); never probes. */
  async peek(binary: string): Promise<QemuCaps | undefined> {
    const path = await this.resolve(binary).catch(() => undefined);
    if (path === undefined) return undefined;
    const key = await readCapsKey(path, this.#facts).catch(() => undefined);
    if (key === undefined) return undefined;
    const memo = this.#memo.get(path);
    if (memo !== undefined && memo.key === keyString(key)) return memo.caps;
    const read = await readCacheFile(join(this.cacheDir, cacheFileName(path)), key);
    return read.status === 'hit' ? read.caps : undefined;
  }

  /** Forgets the in-memory entries (the files stay): the next look-up reads the file. */
  clearMemory(): void {
    this.#memo.clear();
  }

  /** The absolute path `binary` stands for. NotFound when it is not an executable file. */
  async resolve(binary: string): Promise<string> {
    const found = await resolveBinary(binary, this.#env);
    if (found === undefined) {
      throw new VmkitError(
        'NotFound',
        binary.includes('/')
          ? `QEMU binary ${binary} does not exist or is not executable; give an absolute path to an installed qemu-system-* binary`
          : `QEMU binary '${binary}' not found on PATH; install QEMU (apt-get install qemu-system-x86) or give its absolute path`,
        { details: { binary } },
      );
    }
    return found;
  }

  async #load(key: CapsKey, k: string): Promise<QemuCaps> {
    const file = join(this.cacheDir, cacheFileName(key.binary));
    const read = await readCacheFile(file, key);
    let caps: QemuCaps;
    if (read.status === 'hit') {
      this.stats.fileHits++;
      caps = read.caps;
    } else {
      if (read.status !== 'missing') this.stats.refused++;
      this.stats.probes++;
      caps = await this.#probe(key.binary, { timeoutMs: this.#probeTimeoutMs, env: this.#env });
      // A binary replaced while it was probed: answer this look-up, but do not store caps under either key.
      const after = await readCapsKey(key.binary, this.#facts).catch(() => undefined);
      if (after === undefined || keyString(after) !== k) return deepFreeze(caps);
      try {
        await writeCacheFile(this.cacheDir, { name: cacheFileName(key.binary), key, caps });
      } catch {
        // An unwritable cache costs the next process a probe; it is not this look-up's failure.
      }
    }
    deepFreeze(caps);
    this.#memo.set(key.binary, { key: k, caps });
    return caps;
  }
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
