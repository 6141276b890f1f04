/** What every check gets: the roots, and memoized reads of the files several checks need. */
import { join } from 'node:path';
import { readText, readWrite } from './read.js';
import type { HostRoots } from './types.js';

export interface CheckSyscalls {
  /** access(2) R_OK|W_OK; tests fake it, since root may open any fixture file. */
  readonly readWrite?: (path: string) => Promise<boolean>;
  /** The user the checks speak for; default process.getuid(). */
  readonly uid?: number;
}

export class CheckContext {
  readonly #texts = new Map<string, Promise<string | undefined>>();
  readonly readWrite: (path: string) => Promise<boolean>;
  readonly uid: number;

  constructor(
    readonly roots: HostRoots,
    sys: CheckSyscalls = {},
  ) {
    this.readWrite = sys.readWrite ?? readWrite;
    this.uid = sys.uid ?? process.getuid?.() ?? -1;
  }

  /** Reads a file once per run. */
  text(path: string): Promise<string | undefined> {
    let t = this.#texts.get(path);
    if (t === undefined) {
      t = readText(path);
      this.#texts.set(path, t);
    }
    return t;
  }

  proc(rel: string): Promise<string | undefined> {
    return this.text(join(this.roots.proc, rel));
  }

  sys(rel: string): Promise<string | undefined> {
    return this.text(join(this.roots.sys, rel));
  }

  /** CPU flags from /proc/cpuinfo (the first `flags` line: every CPU of a host has the same). */
  async cpuFlags(): Promise<Set<string>> {
    const info = (await this.proc('cpuinfo')) ?? '';
    const line = /^flags\s*:(.*)$/m.exec(info);
    return new Set((line?.[1] ?? '').trim().split(/\s+/).filter((f) => f !== ''));
  }

  async cpuVendor(): Promise<'intel' | 'amd' | 'other'> {
    const info = (await this.proc('cpuinfo')) ?? '';
    const v = /^vendor_id\s*:\s*(\S+)/m.exec(info)?.[1];
    return v === 'GenuineIntel' ? 'intel' : v === 'AuthenticAMD' ? 'amd' : 'other';
  }
}
