/** `vmkit host validate`: host checks with PASS / WARN / FAIL and a one-line remedy each. */
export { validateHost, hostValid, type HostValidateOptions } from './validate-host.js';
export { formatChecks, checksJson } from './format.js';
export { findQemuBinaries } from './check-binaries.js';
export { REAL_ROOTS, type CheckResult, type CheckStatus, type HostRoots } from './types.js';
export type { CheckSyscalls } from './context.js';
