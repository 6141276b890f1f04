/**
 * One cache file per binary: `{ "key": CapsKey, "caps": QemuCaps }`. Reading never trusts the file: JSON
 * that does not parse, a key that differs or caps of the wrong shape all read as "no entry". Writing is
 * atomic (temporary file in the same directory, fsync, rename), so readers see the old or the new entry.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isCapsKey, keyString, type CapsKey } from './cache-key.js';
import { CAPS_FORMAT_VERSION, type QemuCaps } from './types.js';

export type CacheRead =
  | { readonly status: 'hit'; readonly caps: QemuCaps }
  | { readonly status: 'missing' | 'stale' | 'corrupt'; readonly reason: string };

const isStr = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const optStr = (v: unknown): boolean => v === undefined || isStr(v);
const strList = (v: unknown): boolean => Array.isArray(v) && v.every(isStr);
const objList = (v: unknown, each: (o: Record<string, unknown>) => boolean): boolean => Array.isArray(v) && v.every((x) => isObj(x) && each(x));

/** True when `v` has the shape of QemuCaps (every field a program reads is checked). */
export function isQemuCaps(v: unknown): v is QemuCaps {
  if (!isObj(v)) return false;
  const version = v.version;
  const kvm = v.kvm;
  const probe = v.probe;
  return (
    v.formatVersion === CAPS_FORMAT_VERSION &&
    isStr(v.binary) &&
    isObj(version) && isNum(version.major) && isNum(version.minor) && isNum(version.micro) && isStr(version.package) &&
    isStr(v.arch) &&
    isObj(kvm) && isBool(kvm.present) && isBool(kvm.enabled) &&
    strList(v.accels) &&
    isStr(v.probeAccel) &&
    objList(v.machines, (m) => isStr(m.name) && optStr(m.alias) && isBool(m.isDefault) && isBool(m.deprecated) && isNum(m.cpuMax) && optStr(m.defaultCpuType)) &&
    optStr(v.defaultMachine) &&
    objList(v.cpuModels, (c) => isStr(c.name) && optStr(c.aliasOf) && isBool(c.usable) && isBool(c.deprecated)) &&
    objList(v.devices, (d) => isStr(d.name) && isStr(d.bus)) &&
    strList(v.objects) &&
    strList(v.chardevBackends) &&
    strList(v.netdevBackends) &&
    isObj(probe) && isStr(probe.at) && isNum(probe.ms)
  );
}

/** Reads the entry at `file` and accepts it only when its key equals `key` and its caps are well formed. */
export async function readCacheFile(file: string, key: CapsKey): Promise<CacheRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { status: code === 'ENOENT' ? 'missing' : 'corrupt', reason: `cannot read ${file}: ${(e as Error).message}` };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { status: 'corrupt', reason: `${file} is not JSON: ${(e as Error).message}` };
  }
  if (!isObj(data) || !isCapsKey(data.key)) return { status: 'corrupt', reason: `${file} has no valid key` };
  if (keyString(data.key) !== keyString(key)) return { status: 'stale', reason: `${file} was written for another binary or host state` };
  if (!isQemuCaps(data.caps) || data.caps.binary !== key.binary) return { status: 'corrupt', reason: `${file} holds malformed capabilities` };
  return { status: 'hit', caps: data.caps };
}

/** Writes the entry `<dir>/<name>` atomically; creates `dir` (mode 0700) if needed. */
export async function writeCacheFile(dir: string, entry: { name: string; key: CapsKey; caps: QemuCaps }): Promise<void> {
  const { name, key, caps } = entry;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const final = join(dir, name);
  const tmp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(`${JSON.stringify({ key, caps })}\n`);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, final);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}
