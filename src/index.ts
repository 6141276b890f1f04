/**
 * vmkit's public API. Deep imports are blocked by the package's `exports` map: everything a caller may use
 * is exported here.
 */
export { openEmbedded, Connection, type DefinitionInput, type EmbeddedOptions, type DriverOptions, type OpenReport } from './driver/connection.js';
export { Domain, type DomainState, type StartOptions, type DomainEvents } from './driver/domain.js';
export type {
  VmConnection,
  VmDomain,
  DomainInfo,
  DiskSummary,
  NicSummary,
  StopInfo,
  LifecycleEvent,
  LifecycleEventType,
  DefineOptions,
  ShutdownOptions,
  DestroyOptions,
  DomainUpdate,
  DefinitionText,
  DefinitionFormat,
  DomainHandleEvents,
  ConnectionEvents,
} from './driver/api-types.js';
export { DEFAULT_POLICIES, type LifecyclePolicies, type PolicyAction } from './driver/policies.js';
export type { ExitInfo, StopReason } from './process/exit-info.js';
export type { DomainStats, VcpuStats, MemoryStats, DiskStats, NicStats, NicCounters } from './observe/types.js';
export { VmkitError, ConfigError, formatProblem, isVmkitError, type ErrorCode, type Problem } from './errors.js';
export type * from './model/domain.js';
export { parseDefinition, validateDefinition, loadDefinitionFile, detectFormat } from './config/index.js';
export { buildArgv } from './qemu/argv/index.js';
export { QmpClient, QmpListener, type QmpEvent, type QmpGreeting } from './qmp/index.js';
export { connect } from './api/connect.js';
export { RemoteConnection, RemoteDomain, type DaemonStatus } from './api/client.js';
export { startDaemon, type Daemon, type DaemonOptions } from './api/daemon.js';
export { parseUri, defaultSocketPath, defaultRoot, defaultUri } from './api/uri.js';
