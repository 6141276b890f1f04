/**
 * `<os>` (type/arch/machine, direct kernel boot, `<loader>`, boot order), `<features>`, `<clock>` and the
 * `on_*` lifecycle actions. Only what vmkit does is accepted; what it cannot do is reported. Pure.
 */
import { put, type DraftClock, type DraftPflash, type ReadState } from './draft.js';
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
  for (const name of ['dtb', 'bootmenu', 'smbios', 'bios', 'acpi', 'init', 'initarg', 'initenv', 'initdir', 'inituser', 'initgroup', 'idmap']) {
    for (const el of ctx.children(os, name)) ctx.unsupported(el, `<${name}> in <os> is not supported yet; remove it`);
  }

  let loaderPath: string | undefined;
  let pflash: DraftPflash | undefined;
  if (loader !== undefined) {
    const ltype = enumAttr(ctx, loader, 'type', ['rom', 'pflash']);
    const readonly = yesNoAttr(ctx, loader, 'readonly');
    const secure = yesNoAttr(ctx, loader, 'secure');
    const format = enumAttr(ctx, loader, 'format', ['raw', 'qcow2']);
    if (secure === true) {
      ctx.drop({ el: loader, attr: 'secure' }, "Secure boot (secure='yes', which needs SMM and a secure-boot firmware build) is not supported yet");
    } else if (format === 'qcow2') {
      ctx.drop({ el: loader, attr: 'format' }, "qcow2 firmware images are not supported yet; use raw images (format='raw')");
    } else if (ctx.text(loader) === '') {
      ctx.error({ el: loader, text: true }, '<loader> needs the firmware image path');
    } else if (ltype === 'pflash') {
      // libvirt maps a pflash loader writable unless readonly='yes'.
      pflash = { code: put(state, '/boot/pflash/code', { el: loader, text: true }, ctx.text(loader)), readonly: readonly ?? false };
      if (readonly !== undefined) ctx.map('/boot/pflash/readonly', { el: loader, attr: 'readonly' });
      ctx.map('/boot/pflash', loader);
    } else {
      loaderPath = ctx.text(loader);
    }
  }
  const nvram = ctx.child(os, 'nvram');
  if (nvram !== undefined && pflash === undefined && loader !== undefined && ctx.attr(loader, 'type') === 'pflash') {
    ctx.useAll(nvram); // the pflash loader itself is already reported
  } else if (nvram !== undefined) readNvram(state, nvram, pflash, loader);
  else if (pflash?.readonly === true && loader !== undefined) {
    ctx.error(loader, "A read-only pflash loader needs <nvram> with the VM's variable store: libvirt would derive one from its qemu.conf, vmkit does not guess; add <nvram template='...VARS.fd'>/path/to/vm_VARS.fd</nvram>");
  }

  const bootMode = meta.bootMode;
  if (bootMode !== undefined && (kernel !== undefined || boots.length > 0 || (bootMode.mode === 'unset' && loader !== undefined))) {
    ctx.error(bootMode.at, `vmkit:boot mode='${bootMode.mode}' says there is no ${bootMode.mode === 'unset' ? 'boot setting' : 'boot order'}, but <os> has one; remove one or the other`);
  }
  if (kernel !== undefined) {
    state.kernelBoot = true;
    if ((loaderPath !== undefined || pflash !== undefined) && loader !== undefined) {
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
  if (bootMode?.mode === 'unset' && loaderPath === undefined && pflash === undefined) return;
  if (order.length === 0 && boots.length === 0 && bootMode === undefined) {
    // libvirt boots from the first hard disk when no <boot> element says otherwise.
    order.push('disk');
    state.implicitBootOrder = true;
  }
  draft.boot = {
    ...(loaderPath === undefined || loader === undefined ? {} : { firmware: put(state, '/boot/firmware', { el: loader, text: true }, loaderPath) }),
    ...(pflash === undefined ? {} : { pflash }),
    order,
  };
}

/** `<nvram template='T'>PATH</nvram>`: the pflash variable store, copied from T when the VM starts without one. */
function readNvram(state: ReadState, nvram: XmlElement, pflash: DraftPflash | undefined, loader: XmlElement | undefined): void {
  const { ctx } = state;
  const format = enumAttr(ctx, nvram, 'format', ['raw', 'qcow2']);
  const templateFormat = enumAttr(ctx, nvram, 'templateFormat', ['raw', 'qcow2']);
  if (pflash === undefined) {
    ctx.drop(nvram, loader === undefined ? "<nvram> needs <loader type='pflash'>" : "<nvram> only applies to <loader type='pflash'>", {}, nvram);
    return;
  }
  if (format === 'qcow2' || templateFormat === 'qcow2') {
    ctx.drop({ el: nvram, attr: format === 'qcow2' ? 'format' : 'templateFormat' }, 'qcow2 variable stores are not supported yet; use raw', {}, nvram);
    return;
  }
  const path = ctx.text(nvram);
  if (path === '') {
    // libvirt's newer <nvram type='file'><source file=.../></nvram> form is left for finish() to report.
    ctx.error({ el: nvram, text: true }, "<nvram> needs the variable store's path as its text");
    return;
  }
  pflash.vars = put(state, '/boot/pflash/vars', { el: nvram, text: true }, path);
  const template = ctx.attr(nvram, 'template');
  if (template !== undefined) pflash.vars_template = put(state, '/boot/pflash/vars_template', { el: nvram, attr: 'template' }, template);
}

/**
 * `<features>`: `<acpi/>` switches ACPI on. As in libvirt, a domain without `<acpi/>` (or without
 * `<features>`) has no ACPI (`-machine acpi=off`), so it cannot be shut down through ACPI: domains written
 * by virt-install and `virsh dumpxml` have `<acpi/>`. `<apic/>` and `<pae/>` are accepted with no effect:
 * x86_64 guests always have both (libvirt's QEMU driver passes nothing for them either).
 */
export function readFeatures(state: ReadState): void {
  const { ctx, root, draft } = state;
  const f = ctx.child(root, 'features');
  const acpi = f === undefined ? undefined : ctx.child(f, 'acpi');
  if (acpi === undefined) {
    draft.features = { acpi: put(state, '/features/acpi', f ?? root, false) };
    // Not a problem (it is what libvirt does), but rarely what a hand-written domain means.
    ctx.warnings.push(
      ctx.problems.make(f ?? root, {
        message:
          'No <acpi/> in <features>: as in libvirt, this guest has no ACPI (-machine acpi=off) and cannot be shut down through ACPI (vmkit shutdown, Ctrl-C in vmkit run); add <features><acpi/></features> if it should',
      }),
    );
  } else {
    ctx.map('/features/acpi', acpi);
  }
  if (f === undefined) return;
  ctx.map('/features', f);
  for (const name of ['apic', 'pae']) {
    const el = ctx.child(f, name);
    if (el === undefined) continue;
    if (name === 'apic' && ctx.attr(el, 'eoi') !== undefined) {
      ctx.unsupported({ el, attr: 'eoi' }, 'APIC EOI settings are not supported yet');
    }
  }
  for (const el of f.children) {
    if (!['acpi', 'apic', 'pae'].includes(el.name)) {
      ctx.unsupported(el, `The feature <${el.name}> is not supported yet; vmkit switches ACPI only (APIC and PAE are always there)`);
    }
  }
}

const TIMERS = ['rtc', 'pit', 'hpet', 'kvmclock'] as const;

/**
 * `<clock offset='utc'|'localtime'|'variable' adjustment basis>` and `<timer>` for rtc (tickpolicy), pit
 * (tickpolicy), hpet and kvmclock (present). The rest (timezone/absolute offsets, tsc and Hyper-V timers,
 * track, frequency, catchup details) is reported.
 */
export function readClock(state: ReadState): void {
  const { ctx, root, draft } = state;
  const c = ctx.child(root, 'clock');
  if (c === undefined) return;
  ctx.map('/clock', c);
  const clock: DraftClock = {};
  const offset = enumAttr(ctx, c, 'offset', ['utc', 'localtime', 'timezone', 'variable', 'absolute']);
  if (offset === 'timezone' || offset === 'absolute') {
    for (const a of ['timezone', 'start']) ctx.attr(c, a);
    ctx.unsupported({ el: c, attr: 'offset' }, `clock offset='${offset}' is not supported yet; use utc, localtime or variable`);
  } else if (offset !== undefined) {
    clock.offset = put(state, '/clock/offset', { el: c, attr: 'offset' }, offset);
  }
  const adjustment = ctx.attr(c, 'adjustment');
  if (adjustment !== undefined) {
    const at = { el: c, attr: 'adjustment' };
    if (offset !== 'variable') {
      ctx.unsupported(at, `adjustment only applies to offset='variable' in vmkit (found offset='${offset ?? 'utc'}')`, { found: adjustment });
    } else if (!/^[+-]?\d{1,10}$/.test(adjustment.trim())) {
      ctx.error(at, 'The adjustment is a whole number of seconds', { expected: "a number like '3600' or '-600'", found: JSON.stringify(adjustment) });
    } else {
      clock.adjustment = put(state, '/clock/adjustment', at, Number(adjustment.trim()));
    }
  }
  const basis = enumAttr(ctx, c, 'basis', ['utc', 'localtime']);
  if (basis !== undefined) clock.basis = put(state, '/clock/basis', { el: c, attr: 'basis' }, basis);
  const timers: NonNullable<DraftClock['timers']> = {};
  const seen = new Set<string>();
  for (const t of ctx.children(c, 'timer')) {
    const name = ctx.attr(t, 'name');
    const at = `/clock/timers/${name ?? ''}`;
    if (name === undefined) {
      ctx.error({ el: t, attr: 'name' }, '<timer> needs name', { expected: TIMERS.map((n) => `'${n}'`).join(', ') });
      ctx.useAll(t);
      continue;
    }
    if (!(TIMERS as readonly string[]).includes(name)) {
      ctx.unsupported(t, `The timer '${name}' is not supported yet; vmkit sets rtc, pit, hpet and kvmclock`);
      continue;
    }
    const key = name as (typeof TIMERS)[number];
    if (seen.has(key)) {
      ctx.error(t, `The timer '${name}' is set twice`);
      ctx.useAll(t);
      continue;
    }
    seen.add(key);
    ctx.map(at, t);
    const present = yesNoAttr(ctx, t, 'present');
    const tick = ctx.attr(t, 'tickpolicy');
    if (key === 'hpet' || key === 'kvmclock') {
      if (tick !== undefined) ctx.unsupported({ el: t, attr: 'tickpolicy' }, `The ${name} timer has no tick policy in vmkit; remove tickpolicy`);
      if (present === undefined) ctx.unsupported(t, `<timer name='${name}'> without present says nothing; add present='no' or remove it`);
      else timers[key] = { present: put(state, `${at}/present`, { el: t, attr: 'present' }, present) };
      continue;
    }
    if (present === false) ctx.unsupported({ el: t, attr: 'present' }, `The ${name} cannot be removed on pc or q35 machines`);
    const policies = key === 'rtc' ? ['delay', 'catchup'] : ['delay', 'catchup', 'discard'];
    if (tick === undefined) {
      // <timer name='rtc'/> alone changes nothing.
    } else if (policies.includes(tick)) {
      timers[key] = { tickpolicy: put(state, `${at}/tickpolicy`, { el: t, attr: 'tickpolicy' }, tick) };
    } else if (['delay', 'catchup', 'merge', 'discard'].includes(tick)) {
      ctx.unsupported({ el: t, attr: 'tickpolicy' }, `tickpolicy='${tick}' for the ${name} is not supported (QEMU has ${policies.join(', ')})`, { expected: policies.join(', '), found: tick });
    } else {
      ctx.error({ el: t, attr: 'tickpolicy' }, 'Unknown tick policy', { expected: policies.join(', '), found: JSON.stringify(tick) });
    }
  }
  if (Object.keys(timers).length > 0) clock.timers = timers;
  draft.clock = clock;
}

const POLICY_ELEMENTS = ['on_poweroff', 'on_reboot', 'on_crash'] as const;

/**
 * `<on_poweroff>`, `<on_reboot>`, `<on_crash>`: destroy, restart or preserve (the native schema refuses
 * preserve for reboots, as libvirt's QEMU driver does). `rename-restart` is refused (libvirt's QEMU driver
 * has no such action either); the crash actions `coredump-destroy`/`coredump-restart` are refused because
 * vmkit does not dump guest memory, and `--lenient` reads them as destroy/restart.
 */
export function readLifecycle(state: ReadState): void {
  const { ctx, root, draft } = state;
  const out: NonNullable<typeof draft.lifecycle> = {};
  for (const name of POLICY_ELEMENTS) {
    const key = name;
    const el = ctx.child(root, name);
    if (el === undefined) continue;
    const at = { el, text: true } as const;
    const v = ctx.text(el);
    if (['destroy', 'restart', 'preserve'].includes(v)) {
      out[key] = put(state, `/lifecycle/${key}`, at, v);
    } else if (v === 'rename-restart') {
      ctx.unsupported(at, `<${name}>rename-restart</${name}> is not supported (libvirt's QEMU driver has no such action); use destroy or restart`, { found: v });
    } else if (name === 'on_crash' && (v === 'coredump-destroy' || v === 'coredump-restart')) {
      ctx.unsupported(at, `<on_crash>${v}</on_crash> is not supported: vmkit does not dump guest memory; use ${v.slice('coredump-'.length)}`, { found: v });
      if (ctx.lenient) out[key] = put(state, `/lifecycle/${key}`, at, v.slice('coredump-'.length));
    } else {
      const known = name === 'on_crash' ? 'destroy, restart, preserve, coredump-destroy, coredump-restart' : 'destroy, restart, preserve';
      ctx.error(at, `Unknown action for <${name}>`, { expected: known, found: JSON.stringify(v) });
      ctx.claim(`/lifecycle/${key}`);
    }
  }
  if (Object.keys(out).length > 0) {
    ctx.map('/lifecycle', root);
    draft.lifecycle = out;
  }
  for (const el of ctx.children(root, 'on_lockfailure')) ctx.unsupported(el, '<on_lockfailure> is not supported; vmkit has no lock manager');
}
