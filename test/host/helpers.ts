/** Shared helpers for the host tests: temp dirs, the recorded QEMU 7.2 capabilities, fake host facts and probes. */
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { realHostFacts, type HostFactsReader, type ProbeFn, type ProbeOptions, type QemuCaps } from '../../src/host/caps/index.js';

/** test/fixtures/host in the source tree (tests run from dist/test/host). */
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/host/', import.meta.url));

export function fixturePath(name: string): string {
  return join(FIXTURES, name);
}

export function fixtureText(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

/** The capabilities of Debian's qemu-system-x86_64 7.2, as vmkit probed them (test/fixtures/host/caps-qemu-7.2.json). */
export function recordedCaps(overrides: Partial<QemuCaps> = {}): QemuCaps {
  return { ...(JSON.parse(fixtureText('caps-qemu-7.2.json')) as QemuCaps), ...overrides };
}

export async function tempDir(t: TestContext, prefix = 'vmkit-host-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An executable file that stands for a QEMU binary (the fake probe never runs it). */
export async function fakeBinary(dir: string, name = 'qemu-system-x86_64'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, '#!/bin/sh\nexit 1\n');
  await chmod(path, 0o755);
  return path;
}

/** Real stat(2), with the kernel release and /dev/kvm answer under the test's control. */
export function fakeFacts(state: { kernel: string; kvm: boolean }): HostFactsReader {
  const real = realHostFacts();
  return { kernelRelease: () => state.kernel, kvmUsable: async () => state.kvm, stat: (p) => real.stat(p) };
}

/** A probe that answers the recorded caps for any binary and counts its calls; `delayMs` simulates QEMU's start. */
export function countingProbe(opts: { delayMs?: number; fail?: () => Error | undefined } = {}): ProbeFn & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (binary: string, _o: ProbeOptions): Promise<QemuCaps> => {
    calls.push(binary);
    if (opts.delayMs !== undefined) await new Promise((r) => setTimeout(r, opts.delayMs));
    const err = opts.fail?.();
    if (err !== undefined) throw err;
    return recordedCaps({ binary, probe: { at: new Date().toISOString(), ms: opts.delayMs ?? 0 } });
  };
  return Object.assign(fn, { calls });
}
