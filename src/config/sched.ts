/** Scheduling policy/priority rules shared by all formats. Pure. */
import type { SchedPolicy, ThreadSched } from '../model/domain.js';
import type { Problems } from './problems.js';

export const DEADLINE_MESSAGE =
  'The deadline policy needs sched_setattr runtime/deadline/period parameters, which vmkit does not support; use fifo or rr';

const REALTIME = new Set<SchedPolicy>(['fifo', 'rr']);

export interface SchedPointers {
  /** Where the policy is written. */
  readonly policy: string;
  /** Where the priority is (or would be) written. */
  readonly priority: string;
}

/**
 * Checks a policy/priority pair: fifo and rr need a priority 1-99; other, batch and idle take none (0 is
 * accepted with `allowZero`, as `chrt` takes it); deadline is rejected. Returns the ThreadSched when valid.
 */
export function checkSched(
  policy: SchedPolicy | undefined,
  priority: number | undefined,
  at: SchedPointers,
  problems: Problems,
  opts: { allowZero?: boolean } = {},
): ThreadSched | undefined {
  if (policy === undefined) {
    if (priority !== undefined) {
      problems.add(at.priority, { message: 'A priority needs a scheduler policy (fifo or rr); add one or remove the priority' });
    }
    return undefined;
  }
  if (policy === 'deadline') {
    problems.add(at.policy, { message: DEADLINE_MESSAGE, found: '"deadline"' });
    return undefined;
  }
  if (REALTIME.has(policy)) {
    if (priority === undefined) {
      problems.add(at.policy, { message: `The ${policy} policy needs a priority from 1 to 99`, expected: 'a priority from 1 to 99' });
      return undefined;
    }
    if (!Number.isInteger(priority) || priority < 1 || priority > 99) {
      problems.add(at.priority, { message: `The ${policy} policy needs a priority from 1 to 99`, expected: 'an integer from 1 to 99', found: String(priority) });
      return undefined;
    }
    return { policy, priority };
  }
  if (priority !== undefined && !(opts.allowZero === true && priority === 0)) {
    problems.add(at.priority, {
      message: `The ${policy} policy takes no priority (only fifo and rr do); remove it`,
      found: String(priority),
    });
    return undefined;
  }
  return { policy };
}
