/**
 * `<os>` (type/arch/machine, direct kernel boot, `<loader>`, boot order), `<features>`, `<clock>` and the
 * `on_*` lifecycle actions. Only what vmkit does is accepted; what it cannot do is reported. Pure.
 */
import { put, type ReadState } from './draft.js';
import type { VmkitMeta } from './read-metadata.js';
import { enumAttr, yesNoAttr } from './read-values.js';
import type { XmlElement } from './xml-tree.js';

/** libvirt's default machine for qemu-system-x86_64 (QEMU's own default): `pc`. */
export const LIBVIRT_DEFAULT_MACHINE = 'pc';

const BOOT_DEVS = { hd: 'disk', cdrom: 'cdrom', network: 'network' } as const;

export function readOs(state: ReadState, meta: VmkitMeta): void {
  const { ctx, root, draft } = state;
  const os = ctx.child(root, 'os');
  if (os === undefined) {
    ctx.error(root, '<os> is missing: a domain needs at least <os><type>hvm</type></os>');
    return;
  }
  ctx.map('/boot', os);
  const firmware = enumAttr(ctx, os, 'firmware', ['bios', 'efi']);
  if (firmware === 'efi') {
    ctx.unsupported({ el: os, attr: 'firmware' }, "Automatic firmware selection (firmware='efi') is not supported yet; give the firmware image in <loader type='rom'>");
  }
  const type = ctx.child(os, 'type');
  if (type === undefined) {
    ctx.error(os, '<os> needs <type>hvm</type>');
  } else {
    const t = ctx.text(type);
    if (t !== 'hvm') ctx.error({ el: type, text: true }, 'vmkit runs full virtualization guests only', { expected: 'hvm', found: JSON.stringify(t) });
    const arch = ctx.attr(type, 'arch');
    if (arch !== undefined && arch !== 'x86_64') {
      ctx.unsupported({ el: type, attr: 'arch' }, `Guest architecture ${arch} is not supported yet; vmkit runs x86_64 guests`, { expected: 'x86_64', found: arch });
    }
    const machine = ctx.attr(type, 'machine');
    state.machineType = machine ?? LIBVIRT_DEFAULT_MACHINE;
    draft.machine = { ...draft.machine, type: machine === undefined ? LIBVIRT_DEFAULT_MACHINE : put(state, '/machine/type', { el: type, attr: 'machine' }, machine) };
  }

  const kernel = ctx.child(os, 'kernel');
  const initrd = ctx.child(os, 'initrd');
  const cmdline = ctx.child(os, 'cmdline');
  const loader = ctx.child(os, 'loader');
  const boots = ctx.children(os, 'boot');
  for (const name of ['nvram', 'dtb', 'bootmenu', 'smbios', 'bios', 'acpi', 'init', 'initarg', 'initenv', 'initdir', 'inituser', 'initgroup', 'idmap']) {
    for (const el of ctx.children(os, name)) {
      const why = name === 'nvram' ? 'UEFI variable stores (<nvram>) are not supported yet' : `<${name}> in <os> is not supported yet`;
      ctx.unsupported(el, `${why}; remove it`);
    }
  }

  let loaderPath: string | undefined;
  if (loader !== undefined) {
    const ltype = enumAttr(ctx, loader, 'type', ['rom', 'pflash']);
    yesNoAttr(ctx, loader, 'readonly');
    if (ltype === 'pflash') {
      ctx.drop({ el: loader, attr: 'type' }, "pflash firmware (OVMF with variables) is not supported yet; use <loader type='rom'> with a firmware image QEMU loads with -bios");
    } else if (ctx.attr(loader, 'secure') !== undefined) {
      ctx.drop({ el: loader, attr: 'secure' }, 'Secure boot is not supported yet');
    } else {
      loaderPath = ctx.text(loader);
      if (loaderPath === '') {
        ctx.error({ el: loader, text: true }, '<loader> needs the firmware image path');
        loaderPath = undefined;
      }
    }
  }

  const bootMode = meta.bootMode;
  if (bootMode !== undefined && (kernel !== undefined || boots.length > 0 || (bootMode.mode === 'unset' && loader !== undefined))) {
    ctx.error(bootMode.at, `vmkit:boot mode='${bootMode.mode}' says there is no ${bootMode.mode === 'unset' ? 'boot setting' : 'boot order'}, but <os> has one; remove one or the other`);
  }
  if (kernel !== undefined) {
    state.kernelBoot = true;
    if (loaderPath !== undefined && loader !== undefined) {
      ctx.unsupported(loader, 'A firmware image together with direct kernel boot is not supported yet; remove <loader> or <kernel>');
    }
    for (const b of boots) {
      ctx.error(b, '<boot dev> has no effect with direct kernel boot (<kernel>); remove it');
      ctx.useAll(b);
    }
    const k = ctx.text(kernel);
    if (k === '') {
      ctx.error({ el: kernel, text: true }, '<kernel> needs the kernel image path');
      ctx.claim('/boot/kernel');
    }
    draft.boot = {
      kernel: put(state, '/boot/kernel', { el: kernel, text: true }, k),
      ...(initrd === undefined ? {} : { initrd: put(state, '/boot/initrd', { el: initrd, text: true }, ctx.text(initrd)) }),
      ...(cmdline === undefined ? {} : { cmdline: put(state, '/boot/cmdline', { el: cmdline, text: true }, ctx.rawText(cmdline)) }),
    };
    return;
  }
  for (const el of [initrd, cmdline]) {
    if (el !== undefined) ctx.error(el, `<${el.name}> only applies to direct kernel boot; add <kernel> or remove it`);
  }
  const order: string[] = [];
  boots.forEach((b) => {
    const dev = enumAttr(ctx, b, 'dev', ['hd', 'cdrom', 'network', 'fd']);
    if (dev === undefined) {
      if (ctx.attr(b, 'dev') === undefined) ctx.error({ el: b, attr: 'dev' }, '<boot> needs dev', { expected: "'hd', 'cdrom' or 'network'" });
      return;
    }
    if (dev === 'fd') {
      ctx.drop({ el: b, attr: 'dev' }, 'Floppy boot is not supported; vmkit has no floppy drives');
      return;
    }
    if (order.includes(BOOT_DEVS[dev])) {
      ctx.error({ el: b, attr: 'dev' }, `<boot dev='${dev}'> is listed twice`);
      return;
    }
    ctx.map(`/boot/order/${order.length}`, { el: b, attr: 'dev' });
    order.push(BOOT_DEVS[dev]);
  });
  state.osBootAt = boots[0];
  if (bootMode?.mode === 'unset' && loaderPath === undefined) return;
  if (order.length === 0 && boots.length === 0 && bootMode === undefined) {
    // libvirt boots from the first hard disk when no <boot> element says otherwise.
    order.push('disk');
    state.implicitBootOrder = true;
  }
  draft.boot = {
    ...(loaderPath === undefined || loader === undefined ? {} : { firmware: put(state, '/boot/firmware', { el: loader, text: true }, loaderPath) }),
    order,
  };
}

/** Features vmkit's machines always have (ACPI, APIC, PAE on x86_64) are accepted; others are reported. */
export function readFeatures(state: ReadState): void {
  const { ctx, root } = state;
  const f = ctx.child(root, 'features');
  if (f === undefined) return;
  for (const name of ['acpi', 'apic', 'pae']) {
    const el = ctx.child(f, name);
    if (el === undefined) continue;
    if (name === 'apic' && ctx.attr(el, 'eoi') !== undefined) {
      ctx.unsupported({ el, attr: 'eoi' }, 'APIC EOI settings are not supported yet');
    }
  }
  for (const el of f.children) {
    if (!['acpi', 'apic', 'pae'].includes(el.name)) {
      ctx.unsupported(el, `The feature <${el.name}> is not supported yet; vmkit guests have ACPI, APIC and PAE and nothing else to switch`);
    }
  }
}

/** `<clock offset='utc'>` is QEMU's default; other offsets and `<timer>` settings are not supported yet. */
export function readClock(state: ReadState): void {
  const { ctx, root } = state;
  const c = ctx.child(root, 'clock');
  if (c === undefined) return;
  const offset = enumAttr(ctx, c, 'offset', ['utc', 'localtime', 'timezone', 'variable', 'absolute']);
  if (offset !== undefined && offset !== 'utc') {
    ctx.unsupported({ el: c, attr: 'offset' }, `clock offset='${offset}' is not supported yet; the guest clock runs in UTC (offset='utc')`);
  }
  for (const t of ctx.children(c, 'timer')) {
    ctx.unsupported(t, `Timer settings (<timer name='${t.attrs.find((a) => a.name === 'name')?.value ?? '?'}'>) are not supported yet; QEMU's defaults apply without them`);
  }
}

/**
 * vmkit's lifecycle is fixed: the VM ends when the guest powers off (`destroy`) and a guest reboot resets it
 * (`restart`). `on_crash` only acts through a `<panic>` device, which vmkit has none of, so any value is inert
 * (as it is in libvirt without one).
 */
export function readLifecycle(state: ReadState): void {
  const { ctx, root } = state;
  const actions = ['destroy', 'restart', 'preserve', 'rename-restart'] as const;
  const poweroff = ctx.child(root, 'on_poweroff');
  if (poweroff !== undefined) {
    const v = ctx.text(poweroff);
    if (v !== 'destroy') lifecycleProblem(state, poweroff, v, 'destroy', 'vmkit ends the VM when the guest powers off');
  }
  const reboot = ctx.child(root, 'on_reboot');
  if (reboot !== undefined) {
    const v = ctx.text(reboot);
    if (v !== 'restart') lifecycleProblem(state, reboot, v, 'restart', 'a guest reboot resets the VM');
  }
  const crash = ctx.child(root, 'on_crash');
  if (crash !== undefined) {
    const v = ctx.text(crash);
    if (![...actions, 'coredump-destroy', 'coredump-restart'].includes(v)) {
      ctx.error({ el: crash, text: true }, 'Unknown crash action', { expected: 'destroy, restart, preserve, rename-restart, coredump-destroy or coredump-restart', found: JSON.stringify(v) });
    }
  }
  for (const el of ctx.children(root, 'on_lockfailure')) ctx.unsupported(el, '<on_lockfailure> is not supported; vmkit has no lock manager');
}

function lifecycleProblem(state: ReadState, el: XmlElement, found: string, only: string, why: string): void {
  const known = ['destroy', 'restart', 'preserve', 'rename-restart'];
  if (!known.includes(found)) {
    state.ctx.error({ el, text: true }, `Unknown action for <${el.name}>`, { expected: known.join(', '), found: JSON.stringify(found) });
    return;
  }
  state.ctx.unsupported({ el, text: true }, `<${el.name}>${found}</${el.name}> is not supported yet: ${why} (${only})`, { expected: only, found });
}
