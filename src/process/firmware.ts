/**
 * Start-time preparation of flash firmware (the config layer stays pure): a pflash variable store that does
 * not exist yet is copied from its template, as libvirt does when it starts a domain with `<nvram template>`.
 * The copy is exclusive (two starts never overwrite each other's store), mode 0600, and owned by the
 * account QEMU runs as when that is another one.
 */
import { constants } from 'node:fs';
import { access, chmod, chown, copyFile } from 'node:fs/promises';
import { VmkitError, isVmkitError } from '../errors.js';
import type { Identity } from '../host/accounts.js';
import type { DomainSpec } from '../model/domain.js';

export async function prepareFirmware(spec: DomainSpec, identity: Identity | undefined): Promise<void> {
  const p = spec.boot?.kind === 'firmware' ? spec.boot.pflash : undefined;
  if (p?.vars === undefined) return;
  try {
    await access(p.vars, constants.F_OK);
    return;
  } catch {
    // missing: copy it from the template below
  }
  if (p.varsTemplate === undefined) {
    throw new VmkitError('InvalidArgument', `The UEFI variable store ${p.vars} does not exist and the definition gives no template to create it from (boot.pflash.vars_template, <nvram template=...>)`, {
      details: { vars: p.vars },
    });
  }
  try {
    await copyFile(p.varsTemplate, p.vars, constants.COPYFILE_EXCL);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return; // a concurrent start made it
    if (isVmkitError(e)) throw e;
    throw new VmkitError('InvalidArgument', `Cannot create the UEFI variable store ${p.vars} from ${p.varsTemplate}: ${(e as Error).message}`, {
      details: { vars: p.vars, template: p.varsTemplate, code },
    });
  }
  await chmod(p.vars, 0o600);
  if (identity !== undefined) await chown(p.vars, identity.uid, identity.gid);
}
