import { readFile } from 'node:fs/promises';

let cached: Promise<number | undefined> | undefined;

/**
 * The host's TSC rate in kHz, from the first `cpu MHz` line of /proc/cpuinfo (read once per process).
 * A microvm guest under TCG has no timer to calibrate its TSC against and needs `tsc_early_khz`; the value
 * is approximate on hosts that scale their clock, which is enough for the guest to boot.
 */
export function hostTscKHz(cpuinfo = '/proc/cpuinfo'): Promise<number | undefined> {
  if (cpuinfo !== '/proc/cpuinfo') return readTsc(cpuinfo);
  cached ??= readTsc(cpuinfo);
  return cached;
}

async function readTsc(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const m = /^cpu MHz\s*:\s*([0-9.]+)/m.exec(text);
  if (m?.[1] === undefined) return undefined;
  const khz = Math.round(Number(m[1]) * 1000);
  return Number.isFinite(khz) && khz > 0 ? khz : undefined;
}
