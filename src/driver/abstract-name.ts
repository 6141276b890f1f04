/**
 * Holding an abstract unix socket name (Linux: a leading NUL, no file): bind(2) of a name in use fails, and
 * the kernel frees the name when its holder's socket closes, however the process ends. Nothing listens:
 * holding the name is the point (root-lock.ts builds its lock on this).
 *
 * Two ways to the same bind(2):
 *  - 'handle': Node's own pipe handle (process.binding('pipe_wrap'), the handle under net.Server), bound and
 *    never listened on. About 0.3 ms.
 *  - 'net': net.Server#listen, the public API. It loads net, the stream stack and, for every listen, cluster
 *    and child_process: about 10 ms of module loading, measured in `vmkit list` (a third of what vmkit's own
 *    code costs there).
 * 'handle' is used where Node offers it and says nothing about it; under --pending-deprecation (which makes
 * process.binding() print a warning), or where the binding is gone, 'net'.
 */
import type { Server } from 'node:net';
import { getSystemErrorName } from 'node:util';

export type HoldMethod = 'handle' | 'net';

/** A held name: `release()` frees it (idempotent). */
export interface NameHold {
  readonly method: HoldMethod;
  release(): Promise<void>;
}

/** What process.binding('pipe_wrap') provides, as far as this module uses it. */
interface PipeBinding {
  Pipe: new (type: number) => { bind(name: string): number; close(cb?: () => void): void };
  constants: { SERVER: number };
}

let pipeBinding: PipeBinding | null | undefined;

/** The pipe handle binding, or null where it cannot be used quietly. */
function pipeWrap(): PipeBinding | null {
  if (pipeBinding !== undefined) return pipeBinding;
  const pending = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)].includes('--pending-deprecation');
  pipeBinding = null;
  if (!pending) {
    try {
      const b = (process as unknown as { binding(name: string): unknown }).binding('pipe_wrap') as Partial<PipeBinding>;
      if (typeof b.Pipe === 'function' && typeof b.constants?.SERVER === 'number') pipeBinding = b as PipeBinding;
    } catch {
      // Not offered by this Node: 'net'.
    }
  }
  return pipeBinding;
}

/** The way holdAbstractName takes a name in this process. */
export function holdMethod(): HoldMethod {
  return pipeWrap() === null ? 'net' : 'handle';
}

function errnoError(code: number, name: string): NodeJS.ErrnoException {
  const errno = getSystemErrorName(code);
  return Object.assign(new Error(`bind ${errno} ${JSON.stringify(name.replace(/\0/g, '@'))}`), { code: errno, errno: code, syscall: 'bind' });
}

function holdByHandle(binding: PipeBinding, name: string): NameHold | false {
  const handle = new binding.Pipe(binding.constants.SERVER);
  const rc = handle.bind(name);
  if (rc !== 0) {
    handle.close();
    if (getSystemErrorName(rc) === 'EADDRINUSE') return false;
    throw errnoError(rc, name);
  }
  let released: Promise<void> | undefined;
  // A bound handle that does not listen is not active: it never keeps the process alive.
  return { method: 'handle', release: () => (released ??= new Promise<void>((resolve) => handle.close(resolve))) };
}

async function holdByNet(name: string): Promise<NameHold | false> {
  const { createServer } = await import('node:net');
  // Whoever connects is dropped at once.
  const server: Server = createServer((s) => s.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(false) : reject(e)));
    server.listen({ path: name }, () => {
      server.unref();
      let released: Promise<void> | undefined;
      resolve({ method: 'net', release: () => (released ??= new Promise<void>((r) => server.close(() => r()))) });
    });
  });
}

/**
 * Binds abstract socket `name` (it must start with NUL); false when another socket holds it.
 * `method` forces a way (tests); by default the cheaper one this Node offers.
 */
export async function holdAbstractName(name: string, method: HoldMethod = holdMethod()): Promise<NameHold | false> {
  if (!name.startsWith('\0')) throw new TypeError('an abstract socket name starts with NUL');
  const binding = method === 'handle' ? pipeWrap() : null;
  if (method === 'handle' && binding === null) throw new Error('the pipe handle binding is not available in this process');
  return binding === null ? holdByNet(name) : holdByHandle(binding, name);
}
