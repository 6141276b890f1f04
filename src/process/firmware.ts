/**
 * Start-time preparation of flash firmware (the config layer stays pure): a pflash variable store that does
 * not exist yet is copied from its template, as libvirt does when it starts a domain with `<nvram template>`.
 * Both files are opened with the file-system identity of the account QEMU runs as (sys/fs-identity.ts): the
 * template only if that account may read it, the copy created exclusively (O_EXCL, two starts never
 * overwrite each other's store; O_NOFOLLOW, never through a link) where that account may create it, owned by
 * it, mode 0600 set on the open descriptor. A daemon running as root therefore cannot be made to copy out a
 * file QEMU's account could not read itself, nor to create a file where it could not.
 */
import { close, closeSync, constants, fchmod, fchown, fstatSync, fsync, lstatSync, openSync, read, rmSync, write } from 'node:fs';
import { promisify } from 'node:util';
import { VmkitError } from '../errors.js';
import type { Identity } from '../host/accounts.js';
import type { DomainSpec } from '../model/domain.js';
import { withFsIdentity } from '../sys/fs-identity.js';

/** Largest variable store copied (OVMF's are 128-540 KiB; a template larger than this is not one). */
const MAX_VARS_BYTES = 64 * 1024 * 1024;

function fail(what: string, vars: string, template: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  const hint = code === 'EACCES' || code === 'EPERM' ? ' (QEMU\'s account may not do that: fix the file\'s permissions, or put the variable store in a directory that account can write)' : '';
  throw new VmkitError('InvalidArgument', `Cannot create the UEFI variable store ${vars} from ${template}: ${what}: ${(e as Error).message}${hint}`, {
    cause: e,
    details: { vars, template, code },
  });
}

function missingTemplate(vars: string): VmkitError {
  return new VmkitError('InvalidArgument', `The UEFI variable store ${vars} does not exist and the definition gives no template to create it from (boot.pflash.vars_template, <nvram template=...>)`, {
    details: { vars },
  });
}

export async function prepareFirmware(spec: DomainSpec, identity: Identity | undefined): Promise<void> {
  const p = spec.boot?.kind === 'firmware' ? spec.boot.pflash : undefined;
  if (p?.vars === undefined) return;
  const vars = p.vars;
  const template = p.varsTemplate;
  // Both opens happen as QEMU's account, at once; the copy itself then goes through the descriptors.
  const fds = withFsIdentity(identity, (): { src: number; dst: number } | 'exists' => {
    if (template === undefined) {
      try {
        lstatSync(vars);
        return 'exists';
      } catch {
        throw missingTemplate(vars);
      }
    }
    let src: number;
    try {
      src = openSync(template, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch (e) {
      if (existsAs(vars)) return 'exists';
      fail('reading the template', vars, template, e);
    }
    try {
      const st = fstatSync(src);
      if (!st.isFile()) throw Object.assign(new Error('the template is not a regular file'), { code: 'EINVAL' });
      if (st.size > MAX_VARS_BYTES) throw Object.assign(new Error(`the template is ${st.size} bytes, more than a variable store may be (${MAX_VARS_BYTES})`), { code: 'EFBIG' });
      return { src, dst: openSync(vars, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600) };
    } catch (e) {
      closeSync(src);
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return 'exists'; // the domain's own store (or a concurrent start made it)
      fail((e as NodeJS.ErrnoException).code === 'EINVAL' || (e as NodeJS.ErrnoException).code === 'EFBIG' ? 'reading the template' : 'creating it', vars, template, e);
    }
  });
  if (fds === 'exists') return;
  try {
    await copyFd(fds.src, fds.dst);
    await fchmodAsync(fds.dst, 0o600);
    if (identity !== undefined) await fchownAsync(fds.dst, identity.uid, identity.gid);
    await fsyncAsync(fds.dst);
  } catch (e) {
    // A half-written store would be taken for the domain's own at the next start: remove it (as QEMU's account).
    await closeAsync(fds.dst).catch(() => undefined);
    withFsIdentity(identity, () => rmSync(vars, { force: true }));
    fail('copying', vars, template as string, e);
  } finally {
    await closeAsync(fds.src).catch(() => undefined);
  }
  await closeAsync(fds.dst).catch(() => undefined);
}

function existsAs(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

const readAsync = promisify(read);
const writeAsync = promisify(write);
const fchmodAsync = promisify(fchmod);
const fchownAsync = promisify(fchown);
const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);

/** Copies `src` to `dst` through the descriptors (on libuv's threads: the event loop is not held up). */
async function copyFd(src: number, dst: number): Promise<void> {
  const buf = Buffer.alloc(256 * 1024);
  let total = 0;
  for (;;) {
    const { bytesRead: n } = await readAsync(src, buf, 0, buf.length, null);
    if (n === 0) return;
    total += n;
    if (total > MAX_VARS_BYTES) throw new Error(`the template grew past ${MAX_VARS_BYTES} bytes while it was copied`);
    let off = 0;
    while (off < n) off += (await writeAsync(dst, buf, off, n - off, null)).bytesWritten;
  }
}
