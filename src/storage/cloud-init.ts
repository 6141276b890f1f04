/**
 * `vmkit image build` customizations as a cloud-init NoCloud seed: `meta-data` (instance id, hostname) and
 * `user-data` (#cloud-config), on a FAT volume labelled `cidata` that is attached to the guest. Every
 * customization is carried out by cloud-init in the guest at its first boot (a guest without cloud-init
 * ignores the seed): `--run-command` early in that boot (bootcmd, once per instance), `--firstboot-command`
 * late in it (runcmd), `--install` with the guest's package manager and network. Pure.
 */
import { stringify } from 'yaml';
import { VmkitError } from '../errors.js';
import { fatImage, type FatFile } from './fat.js';

export interface SeedFile {
  /** Absolute path in the guest. */
  readonly path: string;
  /** The content, base64. */
  readonly base64: string;
  /** Octal mode, default 0644. */
  readonly mode?: string;
}

export interface Customization {
  readonly hostname?: string;
  /** The root password, in clear (a `random` one is chosen by the caller, who prints it). */
  readonly rootPassword?: string;
  readonly sshKeys?: readonly { readonly user: string; readonly keys: readonly string[] }[];
  readonly install?: readonly string[];
  readonly runCommands?: readonly string[];
  readonly firstbootCommands?: readonly string[];
  readonly files?: readonly SeedFile[];
  readonly timezone?: string;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const TIMEZONE = /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/;
const PACKAGE = /^[A-Za-z0-9@_.+:-]+$/;

/** Every problem of `c`, as `field: message` lines (empty when it is fine). */
export function customizationProblems(c: Customization): string[] {
  const out: string[] = [];
  if (c.hostname !== undefined && !HOSTNAME.test(c.hostname)) out.push(`--hostname: ${JSON.stringify(c.hostname)} is not a host name (letters, digits and -, dot-separated labels of at most 63)`);
  if (c.timezone !== undefined && !TIMEZONE.test(c.timezone)) out.push(`--timezone: ${JSON.stringify(c.timezone)} is not a time zone name like Europe/London`);
  if (c.rootPassword !== undefined && (c.rootPassword === '' || /[\n\r]/.test(c.rootPassword))) out.push('--root-password: the password must be one non-empty line');
  for (const s of c.sshKeys ?? []) {
    if (!USER.test(s.user)) out.push(`--ssh-inject: ${JSON.stringify(s.user)} is not a user name`);
    if (s.keys.length === 0) out.push(`--ssh-inject ${s.user}: no public key found`);
    for (const k of s.keys) if (!/^(ssh|ecdsa|sk-)[A-Za-z0-9@.-]* [A-Za-z0-9+/=]+( .*)?$/.test(k)) out.push(`--ssh-inject ${s.user}: ${JSON.stringify(k.slice(0, 40))} is not an OpenSSH public key line`);
  }
  for (const p of c.install ?? []) if (!PACKAGE.test(p)) out.push(`--install: ${JSON.stringify(p)} is not a package name`);
  for (const f of c.files ?? []) {
    if (!f.path.startsWith('/') || f.path.split('/').includes('..')) out.push(`--upload/--write: the guest path ${JSON.stringify(f.path)} must be absolute, without '..'`);
    if (f.mode !== undefined && !/^0?[0-7]{3,4}$/.test(f.mode)) out.push(`--upload/--write: mode ${JSON.stringify(f.mode)} is not octal`);
  }
  return out;
}

/** True when `c` asks for anything (a seed is written only then). */
export function hasCustomization(c: Customization | undefined): c is Customization {
  if (c === undefined) return false;
  return Object.values(c).some((v) => v !== undefined && (!Array.isArray(v) || v.length > 0));
}

/** The seed's files: `meta-data` and `user-data`. */
export function seedFiles(c: Customization, instanceId: string): FatFile[] {
  const problems = customizationProblems(c);
  if (problems.length > 0) throw new VmkitError('InvalidArgument', `Cannot build the customization:\n  ${problems.join('\n  ')}`, { details: { problems } });
  const meta: Record<string, unknown> = { 'instance-id': instanceId };
  if (c.hostname !== undefined) meta['local-hostname'] = c.hostname;
  const cfg: Record<string, unknown> = {};
  if (c.hostname !== undefined) {
    const short = c.hostname.split('.')[0] as string;
    cfg.preserve_hostname = false;
    cfg.hostname = short;
    if (short !== c.hostname) cfg.fqdn = c.hostname;
  }
  if (c.timezone !== undefined) cfg.timezone = c.timezone;
  if (c.rootPassword !== undefined) {
    cfg.chpasswd = { expire: false, users: [{ name: 'root', password: c.rootPassword, type: 'text' }] };
  }
  const keyed = c.sshKeys ?? [];
  if (keyed.length > 0) {
    if (keyed.some((s) => s.user === 'root')) cfg.disable_root = false;
    cfg.users = ['default', ...keyed.map((s) => ({ name: s.user, ssh_authorized_keys: [...s.keys], ...(s.user === 'root' ? {} : { shell: '/bin/sh' }) }))];
  }
  if ((c.install ?? []).length > 0) {
    cfg.package_update = true;
    cfg.packages = [...(c.install ?? [])];
  }
  if ((c.runCommands ?? []).length > 0) cfg.bootcmd = (c.runCommands ?? []).map((cmd, i) => ['cloud-init-per', 'instance', `vmkit-run-${i + 1}`, 'sh', '-c', cmd]);
  if ((c.firstbootCommands ?? []).length > 0) cfg.runcmd = (c.firstbootCommands ?? []).map((cmd) => ['sh', '-c', cmd]);
  if ((c.files ?? []).length > 0) cfg.write_files = (c.files ?? []).map((f) => ({ path: f.path, encoding: 'b64', content: f.base64, permissions: f.mode ?? '0644' }));
  return [
    { name: 'meta-data', data: Buffer.from(stringify(meta), 'utf8') },
    { name: 'user-data', data: Buffer.from(`#cloud-config\n${Object.keys(cfg).length === 0 ? '{}\n' : stringify(cfg)}`, 'utf8') },
  ];
}

/** The seed volume: a FAT image labelled `cidata` holding seedFiles(c). */
export function seedImage(c: Customization, instanceId: string): Uint8Array {
  return fatImage(seedFiles(c, instanceId), { label: 'cidata' });
}
