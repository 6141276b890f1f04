/**
 * What only a start needs (QEMU's launch, tuning, daemon-mode extras), loaded with the first start: a
 * connection that only lists, defines or re-adopts never loads the argv builder, the capability checks, the
 * host network readers or the tuning code.
 */
export { QemuProcess } from '../process/qemu-process.js';
export { processStartTime } from '../util/proc.js';
export { ConsoleLink } from './console-link.js';
export { daemonArgs, daemonSpec } from './daemon-args.js';
export { writeRuntimeRecord } from './runtime-record.js';
export { serverSpawner } from './spawner.js';
export { pinnedByPlan, prepareTuning } from './tuning-hook.js';
