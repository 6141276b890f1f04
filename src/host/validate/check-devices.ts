/** Device nodes QEMU opens for networking: /dev/vhost-net (in-kernel virtio-net) and /dev/net/tun (tap NICs). */
import { join } from 'node:path';
import type { CheckContext } from './context.js';
import { nodeKind } from './read.js';
import { result, type CheckResult } from './types.js';

async function checkNode(ctx: CheckContext, id: string, rel: string, why: string, module: string): Promise<CheckResult> {
  const title = `/dev/${rel}`;
  const path = join(ctx.roots.dev, rel);
  const kind = await nodeKind(path);
  if (kind === 'missing') return result(id, title, 'WARN', `missing: ${why}`, `modprobe ${module}`);
  if (kind !== 'char') return result(id, title, 'WARN', 'exists but is not a character device', `remove it and run modprobe ${module} so udev recreates it`);
  if (!(await ctx.readWrite(path))) {
    return result(id, title, 'WARN', `this user (uid ${ctx.uid}) cannot open it read-write: ${why}`, `give this user read-write access to /dev/${rel} (udev rule or group)`);
  }
  return result(id, title, 'PASS', 'character device, read-write');
}

export function checkVhostNet(ctx: CheckContext): Promise<CheckResult> {
  return checkNode(ctx, 'vhost-net', 'vhost-net', 'virtio-net runs its data path in QEMU instead of the kernel (slower)', 'vhost_net');
}

export function checkTun(ctx: CheckContext): Promise<CheckResult> {
  return checkNode(ctx, 'tun', 'net/tun', 'tap NICs cannot be used', 'tun');
}
