/** QEMU command-line building (pure). */

export * from './argv/index.js';
export { escapeOptValue, formatOpts, parseOpts, type OptEntry, type OptValue } from './escape.js';
