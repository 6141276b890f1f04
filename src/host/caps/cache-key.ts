/** The cache key of one binary's capabilities: everything whose change makes them stale. */
import { createHash } from 'node:crypto';
import { CAPS_FORMAT_VERSION } from './types.js';
import type { HostFactsReader } from './host-facts.js';

export interface CapsKey {
  /** vmkit's capability format version (CAPS_FORMAT_VERSION). */
  readonly format: number;
  /** Absolute path of the binary. */
  readonly binary: string;
  readonly size: string;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
  /** Device and inode: a binary replaced by rename (package upgrade) is a new file. */
  readonly dev: string;
  readonly ino: string;
  readonly kernel: string;
  readonly kvm: boolean;
}

/** Reads the key's inputs: one stat of the binary, the kernel release, one access(2) on /dev/kvm. */
export async function readCapsKey(binary: string, facts: HostFactsReader): Promise<CapsKey> {
  const [st, kvm] = await Promise.all([facts.stat(binary), facts.kvmUsable()]);
  return {
    format: CAPS_FORMAT_VERSION,
    binary,
    size: String(st.size),
    mtimeNs: String(st.mtimeNs),
    ctimeNs: String(st.ctimeNs),
    dev: String(st.dev),
    ino: String(st.ino),
    kernel: facts.kernelRelease(),
    kvm,
  };
}

const KEY_FIELDS = ['format', 'binary', 'size', 'mtimeNs', 'ctimeNs', 'dev', 'ino', 'kernel', 'kvm'] as const;

/** A canonical string for a key (fixed field order), used for in-memory maps and comparisons. */
export function keyString(k: CapsKey): string {
  return JSON.stringify(KEY_FIELDS.map((f) => k[f]));
}

/** The fields of `a` and `b` that differ (for debugging why an entry was stale). */
export function keyDiff(a: CapsKey, b: CapsKey): string[] {
  return KEY_FIELDS.filter((f) => a[f] !== b[f]);
}

/** Checks that a value read from disk is a CapsKey. */
export function isCapsKey(v: unknown): v is CapsKey {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.format === 'number' &&
    typeof o.kvm === 'boolean' &&
    (['binary', 'size', 'mtimeNs', 'ctimeNs', 'dev', 'ino', 'kernel'] as const).every((f) => typeof o[f] === 'string')
  );
}

/** The cache file name for a binary: a hash of its path, so every binary has one entry that is replaced when stale. */
export function cacheFileName(binary: string): string {
  return `qemu-${createHash('sha256').update(binary).digest('hex').slice(0, 24)}.json`;
}
