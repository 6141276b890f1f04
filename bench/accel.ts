/**
 * The accelerator of the benchmarks that start paused VMs. They want KVM (what a start costs on a KVM host),
 * and these machines come with and without /dev/kvm: without it they run their TCG variant and say so, in
 * the log and in the results, so that figures from the two kinds of machine are never mixed up.
 */
import { kvmUsable } from '../src/host/accel.js';

export interface BenchAccel {
  readonly accel: 'kvm' | 'tcg';
  /** One sentence for the results: which accelerator, and why. */
  readonly note: string;
}

export async function benchAccel(what: string): Promise<BenchAccel> {
  if (await kvmUsable()) return { accel: 'kvm', note: `${what}: under KVM (/dev/kvm is usable here).` };
  return {
    accel: 'tcg',
    note: `${what} wants KVM, but /dev/kvm is missing or not read-write here: this run measures its TCG variant (figures are not comparable with KVM runs).`,
  };
}
