/**
 * Connection URIs and their defaults (DESIGN.md): `embed:///abs/root` or `unix:///path/vmkit.sock`.
 * Default socket: /run/vmkit/vmkit.sock as root, $XDG_RUNTIME_DIR/vmkit/vmkit.sock otherwise, and
 * $TMPDIR/vmkit-UID/vmkit.sock without XDG_RUNTIME_DIR (session mode; the daemon keeps that directory
 * private, see private-dir.ts).
 * Default root: /var/lib/vmkit as root, ~/.local/share/vmkit otherwise.
 */
import net from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { VmkitError } from '../errors.js';

export type ParsedUri = { readonly kind: 'embed'; readonly root: string } | { readonly kind: 'unix'; readonly socket: string };

export function parseUri(uri: string): ParsedUri {
  const m = /^(embed|unix):\/\/(\/.*)$/.exec(uri);
  if (m === null || m[2] === undefined || !isAbsolute(m[2])) {
    throw new VmkitError('InvalidArgument', `Invalid connection URI ${JSON.stringify(uri)}: use embed:///absolute/root or unix:///path/to/vmkit.sock`, {
      details: { uri },
    });
  }
  let path: string;
  try {
    path = decodeURIComponent(m[2]);
  } catch {
    throw new VmkitError('InvalidArgument', `Invalid connection URI ${JSON.stringify(uri)}: malformed %-escape in its path`, { details: { uri } });
  }
  return m[1] === 'embed' ? { kind: 'embed', root: path } : { kind: 'unix', socket: path };
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The directory of a session daemon's default socket (not root): `$XDG_RUNTIME_DIR/vmkit`, or
 * `$TMPDIR/vmkit-UID` without XDG_RUNTIME_DIR. Undefined as root (the system socket's /run/vmkit).
 */
export function sessionSocketDir(env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): string | undefined {
  if (uid === 0) return undefined;
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime !== undefined && runtime !== '') return join(runtime, 'vmkit');
  return join(env.TMPDIR !== undefined && env.TMPDIR !== '' ? env.TMPDIR : tmpdir(), `vmkit-${uid ?? 'user'}`);
}

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (isRoot()) return '/run/vmkit/vmkit.sock';
  return join(sessionSocketDir(env) ?? tmpdir(), 'vmkit.sock');
}

export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (isRoot()) return '/var/lib/vmkit';
  const data = env.XDG_DATA_HOME;
  return join(data !== undefined && data !== '' ? data : join(homedir(), '.local', 'share'), 'vmkit');
}

/** True when something accepts connections on the unix socket `path` (bounded by `timeoutMs`). */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ path });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * The URI to use when none is given: `VMKIT_URI` if set; else the default daemon socket if a daemon
 * answers there; else undefined (the caller decides: the CLI reports that no daemon runs).
 */
export async function defaultUri(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const fromEnv = env.VMKIT_URI;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const socket = defaultSocketPath(env);
  return (await socketAnswers(socket)) ? `unix://${socket}` : undefined;
}
