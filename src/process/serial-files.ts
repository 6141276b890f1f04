/**
 * The host ends of a serial port that QEMU owns itself (serial `file` or `unix`): created private to QEMU's
 * user, and the reason vmkit has no console for such a domain.
 */
import { chmodSync, closeSync, constants, lstatSync, openSync } from 'node:fs';
import { VmkitError } from '../errors.js';
import type { Identity } from '../host/accounts.js';
import type { DomainSpec } from '../model/domain.js';
import { withFsIdentity } from '../sys/fs-identity.js';

/** Why `vmkit console` (and console events) have nothing for `spec`, or undefined when vmkit routes its console. */
export function consoleUnavailable(spec: DomainSpec): string | undefined {
  if (spec.rawOptions !== undefined) return undefined;
  const s = spec.serial;
  switch (s.mode) {
    case 'console':
      return undefined;
    case 'none':
      return `domain '${spec.name}' has no serial port (serial: none)`;
    case 'file':
      return `the serial port of domain '${spec.name}' goes to the file ${s.path} (serial type file), not to vmkit: read that file`;
    case 'unix':
      return `the serial port of domain '${spec.name}' is the unix socket ${s.path} (serial type unix), not vmkit's console: connect to that socket (socat - UNIX-CONNECT:${s.path})`;
  }
}

/**
 * Before QEMU starts: a serial file that does not exist yet is created 0600 by QEMU's account itself (its
 * file-system identity, sys/fs-identity.ts; never through a link), so QEMU writes the guest's console into a
 * private file whatever the umask, and only where that account may create files.
 */
export async function prepareSerialFile(spec: DomainSpec, identity: Identity | undefined): Promise<void> {
  if (spec.rawOptions !== undefined || spec.serial.mode !== 'file') return;
  const path = spec.serial.path;
  withFsIdentity(identity, () => {
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return; // the user's file: its mode is theirs
      throw new VmkitError('HostError', `Cannot create the serial file ${path}${identity === undefined ? '' : ` as QEMU's account (uid ${identity.uid})`}: ${(e as Error).message}`, { cause: e, details: { path } });
    }
    closeSync(fd);
  });
}

/**
 * Once QEMU listens (its QMP is up, the guest has not run): a serial socket QEMU created is made 0600, so
 * only QEMU's account (and root) can connect to the guest's console. Done as QEMU's account, on the socket
 * itself: a path that is (or was swapped for) anything else is refused, never followed.
 */
export async function securePrivateSocket(spec: DomainSpec, identity: Identity | undefined): Promise<void> {
  if (spec.rawOptions !== undefined || spec.serial.mode !== 'unix' || !spec.serial.server) return;
  const path = spec.serial.path;
  withFsIdentity(identity, () => {
    try {
      if (!lstatSync(path).isSocket()) throw Object.assign(new Error('it is not a socket'), { code: 'EINVAL' });
      chmodSync(path, 0o600);
    } catch (e) {
      throw new VmkitError('HostError', `Cannot make the serial socket ${path} private: ${(e as Error).message}`, { cause: e, details: { path } });
    }
  });
}
