/** Which daemon paths routes-vmops.ts serves (light: the server checks each request against it). */
const DOMAIN_ACTIONS = new Set(['attach-disk', 'detach-disk', 'attach-nic', 'detach-nic', 'setvcpus', 'setmem', 'save', 'snapshots', 'block-commit', 'migrate', 'migrate-cancel']);

/** True when the path (its parts after /v1) is one of the vmops routes. */
export function isVmopsPath(parts: readonly string[]): boolean {
  return parts[0] === 'migrations' || (parts[0] === 'domains' && parts.length >= 3 && DOMAIN_ACTIONS.has(parts[2] ?? ''));
}
