/** The connection as the image and volume commands use it. */
import type { VmConnection } from '../../driver/api-types.js';
export type { BuildResult, CachedImage, VolumeInfo } from '../../images/types.js';
export type VmConnectionStorage = VmConnection;
