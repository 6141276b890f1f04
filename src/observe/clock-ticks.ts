/**
 * CLK_TCK, the unit of utime/stime in /proc stat files: sysconf(_SC_CLK_TCK) through koffi (Node has no
 * sysconf), asked once. Linux reports USER_HZ there, 100 on every architecture vmkit runs on: that is the
 * answer when the FFI cannot be loaded.
 */
import { createRequire } from 'node:module';

const SC_CLK_TCK = 2;
let ticks: number | undefined;

export function clockTicks(): number {
  if (ticks !== undefined) return ticks;
  ticks = 100;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    const sysconf = lib.func('long sysconf(int name)') as (name: number) => number;
    const v = sysconf(SC_CLK_TCK);
    if (Number.isInteger(v) && v > 0) ticks = v;
  } catch {
    // keep USER_HZ
  }
  return ticks;
}
