import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devKvm } from './kvm.js';

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

/**
 * Kernel parameters that make the tiny guest boot about 1 s faster under TCG (measured in guest/README.md):
 * skip crypto self-tests, rodata checks, timer calibration and a few slow initcalls. microvm differs: no
 * PCI, and it must keep the APIC timer (vmkit adds tsc_early_khz there itself).
 */
export function fastCmdline(machine = 'q35'): string {
  const common = 'console=ttyS0 quiet cryptomgr.notests rodata=off mitigations=off';
  if (machine === 'microvm') return `${common} pci=off`;
  return `${common} noapictimer noreplace-smp initcall_blacklist=init_kprobe_trace,trace_eval_init,tracer_init_tracefs,crypto_kdf108_init,load_system_certificate_list,i8042_init,add_pcspkr`;
}

/** Native YAML for the tiny guest under TCG. */
export function tinyYaml(opts: { name?: string; action?: string; extra?: string; vcpus?: number; cmdline?: string; machine?: string } = {}): string {
  const g = tinyGuest();
  const cmdline = opts.cmdline ?? `${fastCmdline(opts.machine)} vmkit.action=${opts.action ?? 'poweroff'}`;
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

/** Why boot tests run TCG, as this machine really is (read independently): printed in their names. */
function tcgReason(): string {
  const kvm = devKvm();
  if (kvm === 'missing') return 'this host has no /dev/kvm';
  if (kvm === 'usable') return 'this host\'s /dev/kvm is nested and cannot boot guest kernels';
  return `this host's /dev/kvm is ${kvm === 'denied' ? 'not usable by this user' : 'not a device'}`;
}

export const ACCEL_NOTE = `accelerator: tcg (${tcgReason()})`;
