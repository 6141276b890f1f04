import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from the compiled test's location (dist/test/helpers). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface GuestManifest {
  readonly kernelVersion: string;
  readonly vmlinux: string;
  readonly vmlinuz: string;
  readonly initrd: string;
}

/** The tiny guest built by scripts/build-guest.sh (the test command builds it before the tests run). */
export function tinyGuest(): GuestManifest {
  const file = join(REPO, '.cache/guest/manifest.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as GuestManifest;
  } catch (e) {
    throw new Error(`The tiny guest is not built (${file}): run 'npm run guest' (scripts/build-guest.sh)`, { cause: e });
  }
}

/** Native YAML for the tiny guest under TCG. */
export function tinyYaml(opts: { name?: string; action?: string; extra?: string; vcpus?: number; cmdline?: string; machine?: string } = {}): string {
  const g = tinyGuest();
  const cmdline = opts.cmdline ?? `console=ttyS0 quiet vmkit.action=${opts.action ?? 'poweroff'}`;
  return [
    `name: ${opts.name ?? 'tiny'}`,
    'machine:',
    `  type: ${opts.machine ?? 'q35'}`,
    '  accel: tcg',
    'cpu:',
    `  vcpus: ${opts.vcpus ?? 1}`,
    'memory: 256M',
    'boot:',
    `  kernel: ${JSON.stringify(g.vmlinux)}`,
    `  initrd: ${JSON.stringify(g.initrd)}`,
    `  cmdline: ${JSON.stringify(cmdline)}`,
    opts.extra ?? '',
  ].join('\n');
}

export const ACCEL_NOTE = 'accelerator: tcg (this host\'s /dev/kvm cannot boot guest kernels)';
