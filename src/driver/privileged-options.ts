/**
 * What a definition may ask for when the client defining it is not root (a daemon's `vmkit` group member):
 * nothing that runs a host program of the client's choosing, reaches host files outside the domain's
 * directories (disks are volumes or templates, by name), changes the account QEMU runs as, or hands host
 * hardware to the guest. Access to the daemon
 * must never mean root on the host. A daemon started with `--allow-raw` (or an embedded connection, where the
 * caller is the process itself) skips these rules. Pure.
 */
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import type { Problem } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';

/** Directories whose `qemu-system-*` binaries any client may name as `emulator`. */
export const DEFAULT_EMULATOR_DIRS: readonly string[] = ['/usr/bin', '/usr/local/bin'];

const QEMU_NAME = /^qemu-system-[A-Za-z0-9_.-]+$/;

export interface PrivilegeRules {
  /** The connection's root: a domain's directory is `<root>/vm/<name>`. */
  readonly root: string;
  /** The account QEMU runs as by default (a non-root client may name it, or nothing). */
  readonly qemuUser?: string | number;
  /** Binaries allowed as `emulator`: absolute paths; default every qemu-system-* in DEFAULT_EMULATOR_DIRS. */
  readonly emulators?: readonly string[];
}

/** The directory of a domain's own files (serial logs and sockets, later its volumes). */
export function domainDir(root: string, name: string): string {
  return join(root, 'vm', name);
}

function inside(path: string, dir: string): boolean {
  const r = relative(dir, path);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
}

function emulatorAllowed(emulator: string, rules: PrivilegeRules): boolean {
  if (rules.emulators !== undefined) return rules.emulators.includes(emulator) || (!emulator.includes('/') && rules.emulators.some((e) => basename(e) === emulator));
  if (!QEMU_NAME.test(basename(emulator))) return false;
  return !emulator.includes('/') || DEFAULT_EMULATOR_DIRS.includes(dirname(emulator));
}

const RULE = 'needs a client with uid 0, or a daemon started with --allow-raw';

/**
 * The problems of `spec` for a client that is not root, each at the field (JSON pointer in the definition's
 * own format) with the rule it breaks; [] when a non-root client may define it.
 */
export function privilegedOptions(spec: DomainSpec, rules: PrivilegeRules): (Omit<Problem, 'path'> & { readonly pointer: string })[] {
  const out: (Omit<Problem, 'path'> & { readonly pointer: string })[] = [];
  const launcher = spec.rawOptions !== undefined;
  const add = (pointer: string, message: string, found?: string): void => {
    out.push({ pointer, message: `${message}: ${RULE}`, ...(found === undefined ? {} : { found }) });
  };
  if (!emulatorAllowed(spec.emulator, rules)) {
    const allowed = rules.emulators === undefined ? `a qemu-system-* binary in ${DEFAULT_EMULATOR_DIRS.join(' or ')}` : rules.emulators.join(', ');
    add(launcher ? '/launcher/binary' : '/emulator', `This QEMU binary is not one the daemon allows (${allowed}); running another program`, JSON.stringify(spec.emulator));
  }
  const envNames = Object.keys(spec.process.env);
  if (envNames.length > 0) {
    // At the first variable: where the definition (YAML key, or XML <qemu:env>) names it.
    add(`${launcher ? '/launcher/env' : '/env'}/${(envNames[0] as string).replace(/~/g, '~0').replace(/\//g, '~1')}`, 'Environment variables for QEMU (LD_PRELOAD and the like run code in it)', envNames.join(', '));
  }
  if (spec.qemuArgs.length > 0) add('/qemu_args/0', 'Raw QEMU arguments (they can start programs and open host files)', JSON.stringify(spec.qemuArgs[0]));
  if (launcher) add('/qemu', 'A qemu-launcher file passes its `qemu:` options to QEMU as they are (they can start programs and open host files)');
  const { user, group } = spec.process;
  const isDefault = (v: string | number | undefined): boolean => v === undefined || (rules.qemuUser !== undefined && v === rules.qemuUser);
  if (!isDefault(user)) add(launcher ? '/launcher/user' : '/user', `QEMU runs as ${rules.qemuUser === undefined ? 'the daemon\'s own account' : `'${String(rules.qemuUser)}'`}; another account`, JSON.stringify(user));
  if (group !== undefined && !(rules.qemuUser !== undefined && group === rules.qemuUser)) add(launcher ? '/launcher/group' : '/group', 'Running QEMU in another group', JSON.stringify(group));
  if (spec.serial.mode === 'file' || spec.serial.mode === 'unix') {
    const dir = domainDir(rules.root, spec.name);
    if (!inside(spec.serial.path, dir)) add('/serial/path', `A serial ${spec.serial.mode} outside the domain's directory ${dir}`, JSON.stringify(spec.serial.path));
  }
  // Disks: by name (a volume of the root, a cached template) or a file of the domain's own directory; a path
  // elsewhere would have QEMU's account open a host file (another domain's disk, a volume, a template) for it.
  spec.disks.forEach((d, i) => {
    if (d.volume !== undefined || d.image !== undefined) return;
    const dir = domainDir(rules.root, spec.name);
    if (!inside(d.path, dir)) add(`/disks/${i}/path`, `A disk given by path outside the domain's directory ${dir} (name a volume: volume: NAME, or a template: image: NAME)`, JSON.stringify(d.path));
  });
  (spec.hostdevs ?? []).forEach((h, i) => add(`/hostdevs/${i}`, 'Assigning a host PCI device to the guest', JSON.stringify(h.host)));
  spec.nics.forEach((n, i) => {
    if (n.kind === 'hostdev') add(`/nics/${i}`, 'Assigning a host NIC to the guest', JSON.stringify(n.host));
  });
  return out;
}
