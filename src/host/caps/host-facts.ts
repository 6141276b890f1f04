/**
 * The host facts a capability cache entry depends on, behind an interface so tests can fake them
 * (a different kernel release, /dev/kvm appearing). Each is one syscall or less.
 */
import { access, constants, stat } from 'node:fs';
import { release } from 'node:os';

/** What identifies a binary's contents without reading it. Nanosecond times, as strings in the cache key. */
export interface BinaryStat {
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
  readonly dev: bigint;
}

export interface HostFactsReader {
  /** The running kernel's release (`uname -r`): a new kernel can change what KVM offers. */
  kernelRelease(): string;
  /** True when /dev/kvm exists and this process may open it read-write. */
  kvmUsable(): Promise<boolean>;
  /** stat(2) of a binary, following symlinks. Rejects (ENOENT, ...) like fs.stat. */
  stat(path: string): Promise<BinaryStat>;
}

/** The real host: os.release(), access(2) on /dev/kvm, stat(2). */
export function realHostFacts(devKvm = '/dev/kvm'): HostFactsReader {
  const kernel = release();
  return {
    kernelRelease: () => kernel,
    // Callback fs: measurably cheaper than fs/promises on this hot path (one thread-pool round each).
    kvmUsable: () => new Promise((done) => access(devKvm, constants.R_OK | constants.W_OK, (err) => done(err === null))),
    stat: (path) =>
      new Promise((done, fail) =>
        stat(path, { bigint: true }, (err, s) => {
          if (err !== null) fail(err);
          else done({ size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, ino: s.ino, dev: s.dev });
        }),
      ),
  };
}
