/**
 * The guest clock: `-rtc base=utc|localtime|<datetime>[,driftfix=slew]` and the KVM PIT's lost-tick policy.
 * Nothing at all for the defaults (RTC in UTC, QEMU's timer defaults), so existing command lines keep their
 * shape. `offset: variable` is the one time-dependent value on a command line: its base is computed from
 * ArgvContext.now (the start time; the current time when the caller gives none), as libvirt does at start.
 */

import type { ClockSpec, DomainSpec } from '../../model/domain.js';
import { formatOpts } from '../escape.js';
import type { ArgvContext } from './context.js';

const PIT_POLICY = { delay: 'delay', discard: 'discard', catchup: undefined } as const;

export function clockArgs(spec: DomainSpec, ctx: ArgvContext): string[] {
  const c = spec.clock;
  if (c === undefined) return [];
  const args: string[] = [];
  const base = rtcBase(c, ctx.now ?? new Date());
  const driftfix = c.rtcTickPolicy === 'catchup' ? 'slew' : undefined;
  if (base !== undefined || driftfix !== undefined) args.push('-rtc', formatOpts(undefined, [['base', base], ['driftfix', driftfix]]));
  // KVM's in-kernel PIT re-injects lost ticks (catchup) by default; the property has no effect under TCG.
  const pit = c.pitTickPolicy === undefined ? undefined : PIT_POLICY[c.pitTickPolicy];
  if (pit !== undefined) args.push('-global', `kvm-pit.lost_tick_policy=${pit}`);
  return args;
}

/** `undefined` for UTC (QEMU's default); `variable`: basis + adjustment as QEMU's `YYYY-MM-DDTHH:MM:SS`. */
export function rtcBase(c: ClockSpec, now: Date): string | undefined {
  if (c.offset === 'utc') return undefined;
  if (c.offset === 'localtime') return 'localtime';
  let seconds = Math.floor(now.getTime() / 1000) + (c.adjustment ?? 0);
  // Local time as if it were UTC, like libvirt's `now += localOffset` for basis='localtime'.
  if (c.basis === 'localtime') seconds -= now.getTimezoneOffset() * 60;
  return new Date(seconds * 1000).toISOString().slice(0, 19);
}
