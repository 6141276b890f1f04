/**
 * `<qemu:commandline>` (namespace http://libvirt.org/schemas/domain/qemu/1.0): `<qemu:arg value>` ->
 * `qemuArgs` in order, `<qemu:env name value>` -> QEMU's environment. Several blocks are read in order, as
 * libvirt does. Pure.
 */
import { put, type ReadState } from './draft.js';
import type { XmlElement } from './xml-tree.js';

export const QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0';

export interface PlacedArg {
  readonly value: string;
  readonly at: XmlElement;
}

/**
 * libvirt's device ids differ from vmkit's for disks (`virtio-disk0` is vmkit's `disk0`) and netdevs
 * (`hostnet0` is `net0`), so a `-set device.virtio-disk0.x=y` copied from a libvirt domain would not find its
 * device; it is reported with the vmkit id to use.
 */
export function readQemuCommandline(state: ReadState, aliases: ReadonlyMap<string, string>): PlacedArg[] {
  const { ctx, root, draft } = state;
  const args: PlacedArg[] = [];
  for (const block of ctx.children(root, 'commandline', QEMU_NS)) {
    for (const arg of ctx.children(block, 'arg', QEMU_NS)) {
      const value = ctx.attr(arg, 'value');
      if (value === undefined) {
        ctx.error({ el: arg, attr: 'value' }, '<qemu:arg> needs value, one QEMU argument');
        continue;
      }
      const m = /^(device|netdev)\.([^.]+)\.(.*)$/.exec(value);
      const id = m?.[2];
      const vmkitId = id === undefined ? undefined : aliases.get(id);
      if (m !== null && vmkitId !== undefined) {
        ctx.error({ el: arg, attr: 'value' }, `libvirt names this device ${id}, vmkit names it ${vmkitId}: write ${m[1]}.${vmkitId}.${m[3]}`, {
          expected: `${m[1]}.${vmkitId}.${m[3]}`,
          found: value,
        });
        continue;
      }
      args.push({ value, at: arg });
    }
    for (const env of ctx.children(block, 'env', QEMU_NS)) {
      const name = ctx.attr(env, 'name');
      if (name === undefined) {
        ctx.error({ el: env, attr: 'name' }, '<qemu:env> needs name');
        continue;
      }
      const e = (draft.env ??= {});
      if (Object.hasOwn(e, name)) {
        ctx.error({ el: env, attr: 'name' }, `The environment variable ${name} is set twice`);
        continue;
      }
      const value = ctx.attr(env, 'value') ?? '';
      ctx.map(`/env`, env);
      e[name] = put(state, `/env/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`, { el: env, attr: 'name' }, value);
    }
  }
  return args;
}
