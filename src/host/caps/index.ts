/**
 * Host facts about QEMU binaries: capabilities probed lazily (one QEMU process, one QMP session, paused,
 * no guest), cached on disk keyed by what makes them stale, and checked against definitions.
 *
 *   const cache = new CapsCache({ cacheDir: connectionCacheDir(root) });   // or sharedCacheDir()
 *   const caps = await checkSpecAgainstHost(spec, { cache, text, file });   // one look-up per operation
 *   const accel = effectiveAccel(spec, caps);
 */
export { CapsCache, type CapsCacheOptions, type CapsCacheStats, type LookupOptions } from './caps-cache.js';
export { connectionCacheDir, sharedCacheDir } from './cache-dir.js';
export { cacheFileName, keyDiff, keyString, readCapsKey, type CapsKey } from './cache-key.js';
export { isQemuCaps } from './cache-file.js';
export { realHostFacts, type BinaryStat, type HostFactsReader } from './host-facts.js';
export { probeArgv, probeQemu, DEFAULT_PROBE_TIMEOUT_MS, type ProbeFn, type ProbeOptions } from './probe.js';
export { capsFromReplies, probeAccelOf, PROBE_COMMANDS, type ProbeReplies } from './parse-replies.js';
export { checkSpecAgainstHost, hostProblems, type HostCheck, type HostCheckOptions } from './check-spec.js';
export { accelUsable, effectiveAccel, guestAccels, machineNames, validateAgainstCaps, type ValidateCapsOptions } from './validate-spec.js';
export { specUsages, type Usage, type UsageKind } from './argv-usage.js';
export { placeProblems, problemPointer, specLocator, withPositions, type DefinitionText } from './locate-spec.js';
export { definitionLocator, displayPath, pointerOf, type FieldLocator, type FieldPosition } from './locate-field.js';
export { closestNames } from './suggest-names.js';
export {
  CAPS_FORMAT_VERSION,
  versionText,
  type CpuModelCaps,
  type DeviceBus,
  type DeviceCaps,
  type MachineCaps,
  type QemuCaps,
  type QemuVersion,
} from './types.js';
