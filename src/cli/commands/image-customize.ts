/**
 * virt-builder's customization options, read on the client side (files named in them are this process's to
 * read, never the daemon's) into a Customization for the cloud-init seed.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { VmkitError } from '../../errors.js';
import type { Customization, SeedFile } from '../../images/types.js';

export interface CustomizeFlags {
  readonly hostname?: string;
  readonly rootPassword?: string;
  readonly sshInject?: readonly string[];
  readonly install?: readonly string[];
  readonly runCommand?: readonly string[];
  readonly firstbootCommand?: readonly string[];
  readonly upload?: readonly string[];
  readonly write?: readonly string[];
  readonly timezone?: string;
}

/** `--root-password random`: the service picks it and returns it (images/service.ts RANDOM_PASSWORD). */
const RANDOM_PASSWORD = '\u0000random';

function bad(flag: string, message: string): VmkitError {
  return new VmkitError('InvalidArgument', `${flag}: ${message}`, { details: { flag } });
}

/** Splits `A:B` at the first colon; both parts required. */
function pair(flag: string, value: string, what: string): [string, string] {
  const i = value.indexOf(':');
  if (i <= 0 || i === value.length - 1) throw bad(flag, `expected ${what}, got ${JSON.stringify(value)}`);
  return [value.slice(0, i), value.slice(i + 1)];
}

async function readText(flag: string, file: string): Promise<string> {
  try {
    return await readFile(resolve(file), 'utf8');
  } catch (e) {
    throw bad(flag, `cannot read ${file}: ${(e as Error).message}`);
  }
}

export async function readCustomization(f: CustomizeFlags): Promise<Customization | undefined> {
  const out: { -readonly [K in keyof Customization]: Customization[K] } = {};
  if (f.hostname !== undefined) out.hostname = f.hostname;
  if (f.timezone !== undefined) out.timezone = f.timezone;
  if (f.rootPassword !== undefined) {
    const sel = f.rootPassword;
    if (sel === 'random') out.rootPassword = RANDOM_PASSWORD;
    else if (sel.startsWith('password:')) out.rootPassword = sel.slice('password:'.length);
    else if (sel.startsWith('file:')) out.rootPassword = ((await readText('--root-password', sel.slice(5))).split('\n')[0] ?? '').replace(/\r$/, '');
    else throw bad('--root-password', `expected password:PASSWORD, file:FILENAME or random, got ${JSON.stringify(sel)}`);
  }
  if ((f.sshInject ?? []).length > 0) {
    const keyed: { user: string; keys: string[] }[] = [];
    for (const v of f.sshInject ?? []) {
      const i = v.indexOf(':');
      const user = i < 0 ? v : v.slice(0, i);
      const sel = i < 0 ? undefined : v.slice(i + 1);
      let keys: string[];
      if (sel === undefined) keys = await defaultKeys();
      else if (sel.startsWith('string:')) keys = [sel.slice(7)];
      else keys = keyLines(await readText('--ssh-inject', sel.startsWith('file:') ? sel.slice(5) : sel));
      if (keys.length === 0) throw bad('--ssh-inject', `no public key for ${user}${sel === undefined ? ' in ~/.ssh/*.pub' : ` in ${sel}`}`);
      const existing = keyed.find((k) => k.user === user);
      if (existing === undefined) keyed.push({ user, keys });
      else existing.keys.push(...keys);
    }
    out.sshKeys = keyed;
  }
  const install = (f.install ?? []).flatMap((p) => p.split(',')).map((p) => p.trim()).filter((p) => p !== '');
  if (install.length > 0) out.install = install;
  if ((f.runCommand ?? []).length > 0) out.runCommands = [...(f.runCommand ?? [])];
  if ((f.firstbootCommand ?? []).length > 0) out.firstbootCommands = [...(f.firstbootCommand ?? [])];
  const files: SeedFile[] = [];
  for (const v of f.upload ?? []) {
    const [src, dst] = pair('--upload', v, 'SOURCE:DESTINATION');
    let data: Buffer;
    let mode: number;
    try {
      data = await readFile(resolve(src));
      mode = (await stat(resolve(src))).mode & 0o7777;
    } catch (e) {
      throw bad('--upload', `cannot read ${src}: ${(e as Error).message}`);
    }
    files.push({ path: dst, base64: data.toString('base64'), mode: `0${mode.toString(8)}` });
  }
  for (const v of f.write ?? []) {
    const [file, content] = pair('--write', v, 'FILE:CONTENT');
    files.push({ path: file, base64: Buffer.from(content, 'utf8').toString('base64') });
  }
  if (files.length > 0) out.files = files;
  return Object.keys(out).length === 0 ? undefined : out;
}

function keyLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The invoking user's public keys (~/.ssh/*.pub), as virt-builder's --ssh-inject USER does. */
async function defaultKeys(): Promise<string[]> {
  const dir = join(process.env.HOME ?? homedir(), '.ssh');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.pub')).sort();
  const out: string[] = [];
  for (const n of names) out.push(...keyLines(await readFile(join(dir, n), 'utf8').catch(() => '')));
  return out;
}

/** `--append-to` helper for commander: collects repeated options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
