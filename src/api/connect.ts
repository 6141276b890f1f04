/** `connect(uri)`: one entry point for both ways to hold the API. */
import type { VmConnection } from '../driver/api-types.js';
import { VmkitError } from '../errors.js';
import { defaultSocketPath, defaultUri, parseUri } from './uri.js';

/**
 * Opens `embed:///abs/root` (the driver in this process) or `unix:///path/vmkit.sock` (a client of a
 * running `vmkit daemon`); both implement VmConnection. Without a URI: `VMKIT_URI`, else the default
 * daemon socket if a daemon answers there.
 */
export async function connect(uri?: string): Promise<VmConnection> {
  const chosen = uri ?? (await defaultUri());
  if (chosen === undefined) {
    throw new VmkitError('HostError', `No vmkit daemon answers at ${defaultSocketPath()}: start one with 'vmkit daemon', set VMKIT_URI, or pass embed:///path for a daemon-less connection`, {
      details: { socket: defaultSocketPath() },
    });
  }
  const parsed = parseUri(chosen);
  // Each kind loads only its own side: the driver, or the HTTP client.
  if (parsed.kind === 'embed') return (await import('../driver/connection.js')).openEmbedded({ root: parsed.root });
  return (await import('./client.js')).RemoteConnection.open(parsed.socket);
}
