/**
 * The rest of `<devices>`: `<emulator>`, `<controller>` (where it matters), `<serial>`/`<console>`,
 * `<graphics type='vnc'>` with `<video>` and `<input>`, `<memballoon>`, `<rng>` and PCI `<hostdev>`. Pure.
 */
import { child } from '../pointer.js';
import { put, type DraftBalloon, type DraftHostdev, type DraftRng, type DraftSerial, type ReadState } from './draft.js';
import { readDeviceBoot } from './read-nics.js';
import { enumAttr, intAttr, yesNoAttr } from './read-values.js';
import type { XmlElement } from './xml-tree.js';

export function readEmulator(state: ReadState, devices: XmlElement): void {
  const { ctx, draft } = state;
  const em = ctx.child(devices, 'emulator');
  if (em === undefined) return;
  const path = ctx.text(em);
  if (draft.emulator !== undefined) {
    ctx.error(em, 'The emulator is given twice: in <emulator> and in vmkit metadata; keep one');
    return;
  }
  if (path === '') {
    ctx.error({ el: em, text: true }, '<emulator> needs the QEMU binary, like /usr/bin/qemu-system-x86_64');
    return;
  }
  draft.emulator = put(state, '/emulator', { el: em, text: true }, path);
}

/** Returns whether a virtio-scsi controller is present (vmkit's SCSI disks need one). */
export function readControllers(state: ReadState, devices: XmlElement): { scsi: boolean } {
  const { ctx } = state;
  let scsi = false;
  for (const c of ctx.children(devices, 'controller')) {
    const type = ctx.attr(c, 'type');
    const index = intAttr(ctx, c, 'index', { min: 0 }) ?? 0;
    const model = ctx.attr(c, 'model');
    const builtIn = (what: string): void => {
      if (index !== 0) ctx.unsupported({ el: c, attr: 'index' }, `A second ${what} controller is not supported yet`);
    };
    switch (type) {
      case 'pci':
        if (index === 0 && (model === 'pci-root' || model === 'pcie-root')) break;
        ctx.unsupported(c, `PCI controllers other than the root bus (${model ?? 'no model'}) are not supported yet; vmkit puts devices on the root bus`);
        break;
      case 'usb':
        if (model === 'none') break;
        ctx.unsupported(c, "USB controllers are not supported yet; vmkit guests have no USB (write <controller type='usb' model='none'/>)");
        break;
      case 'sata':
      case 'ide':
        builtIn(type);
        break;
      case 'scsi': {
        if (model !== 'virtio-scsi') {
          ctx.drop({ el: c, attr: 'model' }, `SCSI controller model ${model ?? "(libvirt's default, lsilogic)"} is not supported; vmkit's SCSI disks sit on virtio-scsi: model='virtio-scsi'`, {
            expected: 'virtio-scsi',
          });
          break;
        }
        builtIn('SCSI');
        const driver = ctx.child(c, 'driver');
        if (driver !== undefined && ctx.attr(driver, 'iothread') !== undefined) {
          ctx.unsupported({ el: driver, attr: 'iothread' }, 'An iothread for the SCSI controller is not supported yet; use virtio disks with <driver iothread=...> for dataplane');
        }
        scsi = true;
        break;
      }
      case undefined:
        ctx.error({ el: c, attr: 'type' }, '<controller> needs type');
        break;
      default:
        ctx.drop({ el: c, attr: 'type' }, `${type} controllers are not supported yet`);
    }
  }
  return { scsi };
}

const CHAR_NOT_YET: Readonly<Record<string, string>> = {
  tcp: 'use type=\'unix\' (a socket only this host can reach)',
  udp: 'use type=\'file\' or type=\'unix\'',
};

/** One serial backend as the native `serial` value, or undefined when it cannot be used (reported). */
function charBackend(state: ReadState, el: XmlElement, record = true): { serial: DraftSerial; key: string } | undefined {
  const { ctx } = state;
  const type = ctx.attr(el, 'type');
  if (type === 'pty' || type === 'stdio') {
    // vmkit's own console stands in for both: the terminal of `vmkit run --console`, the run log and `vmkit console`.
    const src = ctx.child(el, 'source');
    if (src !== undefined && type === 'pty') ctx.attr(src, 'path'); // the pty of a running domain: runtime state, not configuration
    return { serial: 'console', key: 'console' };
  }
  if (type === 'file' || type === 'unix') {
    const src = ctx.child(el, 'source');
    const path = src === undefined ? undefined : ctx.attr(src, 'path');
    if (src === undefined || path === undefined) {
      ctx.error(src === undefined ? el : { el: src, attr: 'path' }, `<${el.name} type='${type}'> needs <source path='...'/>`);
      return undefined;
    }
    if (record) ctx.map('/serial/path', { el: src, attr: 'path' });
    if (type === 'file') {
      const append = enumAttr(ctx, src, 'append', ['on', 'off']);
      if (append !== undefined && record) ctx.map('/serial/append', { el: src, attr: 'append' });
      return { serial: { type: 'file', path, ...(append === undefined ? {} : { append: append === 'on' }) }, key: `file:${path}` };
    }
    // libvirt's default mode is connect.
    const mode = enumAttr(ctx, src, 'mode', ['bind', 'connect']);
    if (ctx.attr(src, 'mode') !== undefined && record) ctx.map('/serial/server', { el: src, attr: 'mode' });
    return { serial: { type: 'unix', path, server: mode === 'bind' }, key: `unix:${path}:${mode ?? 'connect'}` };
  }
  if (type === undefined) {
    ctx.error({ el, attr: 'type' }, `<${el.name}> needs type`, { expected: "'pty', 'file' or 'unix'" });
    return undefined;
  }
  const why = CHAR_NOT_YET[type];
  ctx.unsupported({ el, attr: 'type' }, `A ${el.name} of type '${type}' is not supported yet${why === undefined ? '' : ` (${why})`}; use type='pty', 'file' or 'unix'`);
  ctx.useAll(el);
  return undefined;
}

/**
 * The one serial port (ttyS0): `<serial>` and/or a `<console>` pointing at it, as virt-install writes them.
 * pty and stdio become vmkit's routed console; file and unix become QEMU's own chardev (no `vmkit console`).
 * A `<console>` next to a `<serial>` is the same port and must agree with it.
 */
export function readSerial(state: ReadState, devices: XmlElement): void {
  const { ctx, draft } = state;
  let chosen: { serial: DraftSerial; key: string; el: XmlElement } | undefined;
  ctx.children(devices, 'serial').forEach((s, i) => {
    if (i > 0) {
      ctx.unsupported(s, 'A second serial port is not supported yet');
      return;
    }
    const backend = charBackend(state, s);
    const target = ctx.child(s, 'target');
    if (target !== undefined) {
      const ttype = ctx.attr(target, 'type');
      if (ttype !== undefined && ttype !== 'isa-serial') ctx.unsupported({ el: target, attr: 'type' }, `Serial target type ${ttype} is not supported yet; vmkit's serial port is an ISA serial port`);
      const port = intAttr(ctx, target, 'port', { min: 0 });
      if (port !== undefined && port !== 0) ctx.unsupported({ el: target, attr: 'port' }, 'Only serial port 0 (ttyS0) is supported');
      const model = ctx.child(target, 'model');
      if (model !== undefined) {
        const name = ctx.attr(model, 'name');
        if (name !== 'isa-serial') ctx.unsupported({ el: model, attr: 'name' }, `Serial model ${name ?? '?'} is not supported yet`);
      }
    }
    if (backend === undefined) {
      ctx.claim('/serial');
      return;
    }
    chosen = { ...backend, el: s };
    ctx.map('/serial', s);
  });
  ctx.children(devices, 'console').forEach((c, i) => {
    if (i > 0) {
      ctx.unsupported(c, 'A second console is not supported yet');
      return;
    }
    const target = ctx.child(c, 'target');
    const ttype = target === undefined ? undefined : ctx.attr(target, 'type');
    if (target !== undefined) {
      const port = intAttr(ctx, target, 'port', { min: 0 });
      if (port !== undefined && port !== 0) ctx.unsupported({ el: target, attr: 'port' }, 'Only console port 0 is supported');
    }
    if (ttype !== undefined && ttype !== 'serial') {
      ctx.drop({ el: target ?? c, attr: 'type' }, `Console target type ${ttype} is not supported yet; vmkit's console is the serial port (target type='serial')`, {}, c);
      return;
    }
    if (chosen !== undefined) {
      // The serial port's console: libvirt keeps the two in step; a console that says otherwise is a mistake.
      const mine = charBackend(state, c, false);
      if (mine !== undefined && mine.key !== chosen.key) {
        ctx.error(c, `This <console> is serial port 0, but its type or source differs from the <serial> at ${chosen.el.path}; make them the same (or remove <console>)`);
      }
      return;
    }
    const backend = charBackend(state, c);
    if (backend === undefined) return;
    chosen = { ...backend, el: c };
    ctx.map('/serial', c);
  });
  draft.serial = chosen === undefined ? 'none' : chosen.serial;
}

/** `<graphics type='vnc' port='5900+N' listen='...'>`, its `<video>` (VGA) and the PS/2 `<input>`s every PC has. */
export function readGraphics(state: ReadState, devices: XmlElement): void {
  const { ctx, draft } = state;
  let vnc = false;
  ctx.children(devices, 'graphics').forEach((g, i) => {
    if (i > 0) {
      ctx.unsupported(g, 'A second display is not supported yet');
      return;
    }
    const type = ctx.attr(g, 'type');
    if (type !== 'vnc') {
      ctx.drop({ el: g, attr: 'type' }, `Graphics type ${type ?? '(none)'} is not supported yet; use type='vnc'`);
      return;
    }
    const autoport = yesNoAttr(ctx, g, 'autoport');
    const portText = ctx.attr(g, 'port');
    let display: number | 'auto';
    if (autoport === true || portText === undefined || portText === '-1') {
      // libvirt's autoport: the first free port from 5900; QEMU finds it with to=99 (vmkit show reports it).
      display = 'auto';
      if (portText !== undefined && portText !== '-1') ctx.map('/graphics/display', { el: g, attr: 'port' });
    } else {
      const port = intAttr(ctx, g, 'port', { min: 5900, max: 65535 });
      if (port === undefined) return;
      display = port - 5900;
      ctx.map('/graphics/display', { el: g, attr: 'port' });
    }
    if (ctx.attr(g, 'websocket') !== undefined) ctx.unsupported({ el: g, attr: 'websocket' }, 'VNC over websockets is not supported yet; use a VNC client (through an SSH tunnel when remote)');
    if (ctx.attr(g, 'passwd') !== undefined) {
      ctx.unsupported({ el: g, attr: 'passwd' }, 'VNC passwords are not supported yet (QEMU would need them set over QMP at every start); keep VNC on 127.0.0.1 and tunnel it');
    }
    let listen = ctx.attr(g, 'listen');
    let listenAt = { el: g, attr: 'listen' };
    for (const l of ctx.children(g, 'listen')) {
      const ltype = ctx.attr(l, 'type');
      if (ltype !== 'address') {
        ctx.drop({ el: l, attr: 'type' }, `VNC listen type ${ltype ?? '(none)'} is not supported yet; use <listen type='address' address='127.0.0.1'/>`);
        continue;
      }
      const address = ctx.attr(l, 'address');
      if (address !== undefined) {
        if (listen !== undefined && listen !== address) ctx.error({ el: l, attr: 'address' }, `The listen address disagrees with listen='${listen}' on <graphics>`);
        listen = address;
        listenAt = { el: l, attr: 'address' };
      }
    }
    vnc = true;
    ctx.map('/graphics', g);
    draft.graphics = {
      type: 'vnc',
      display,
      ...(listen === undefined ? {} : { listen: put(state, '/graphics/listen', listenAt, listen) }),
    };
  });
  if (!vnc) draft.graphics = 'none';
  ctx.children(devices, 'video').forEach((v, i) => {
    const model = ctx.child(v, 'model');
    const type = model === undefined ? undefined : ctx.attr(model, 'type');
    if (model !== undefined) {
      const heads = intAttr(ctx, model, 'heads', { min: 1 });
      if (heads !== undefined && heads !== 1) ctx.unsupported({ el: model, attr: 'heads' }, 'Several heads are not supported yet');
      yesNoAttr(ctx, model, 'primary');
    }
    if (i > 0) ctx.unsupported(v, 'A second video adapter is not supported yet');
    else if (type === 'none') {
      if (vnc) ctx.error({ el: model ?? v, attr: 'type' }, "vmkit's VNC display uses a VGA adapter: use <model type='vga'/> or remove <video>");
    } else if (type !== undefined && type !== 'vga') {
      ctx.drop({ el: model ?? v, attr: 'type' }, `Video model ${type} is not supported yet; vmkit's VNC display uses a standard VGA adapter (type='vga')`, {}, v);
    } else if (!vnc) {
      ctx.unsupported(v, "A video adapter without a display is not supported yet; add <graphics type='vnc' port='5900'/>, or use <model type='none'/>");
    }
  });
  for (const input of ctx.children(devices, 'input')) {
    const type = ctx.attr(input, 'type');
    const bus = ctx.attr(input, 'bus');
    if ((type === 'mouse' || type === 'keyboard') && (bus === undefined || bus === 'ps2')) continue;
    ctx.unsupported(input, `Input device ${type ?? '?'}${bus === undefined ? '' : ` on bus ${bus}`} is not supported yet; vmkit guests have the PS/2 keyboard and mouse only`);
  }
}

/** `<memballoon>` (libvirt adds a virtio balloon when there is none), `<rng>`, PCI `<hostdev>`. */
export function readExtras(state: ReadState, devices: XmlElement | undefined): void {
  const { ctx, draft } = state;
  const balloons = devices === undefined ? [] : ctx.children(devices, 'memballoon');
  let balloon: DraftBalloon = balloons.length === 0;
  balloons.forEach((b, i) => {
    if (i > 0) {
      ctx.error(b, '<memballoon> may appear only once');
      ctx.useAll(b);
      return;
    }
    const model = ctx.attr(b, 'model');
    if (model === 'none') return;
    if (model !== 'virtio') {
      ctx.drop({ el: b, attr: 'model' }, `Balloon model ${model ?? '(none given)'} is not supported yet; use model='virtio' or model='none'`);
      return;
    }
    ctx.map('/balloon', b);
    const opts: Exclude<DraftBalloon, boolean> = {};
    const autodeflate = enumAttr(ctx, b, 'autodeflate', ['on', 'off']);
    if (autodeflate !== undefined) opts.autodeflate = put(state, '/balloon/autodeflate', { el: b, attr: 'autodeflate' }, autodeflate === 'on');
    const fpr = enumAttr(ctx, b, 'freePageReporting', ['on', 'off']);
    if (fpr !== undefined) opts.free_page_reporting = put(state, '/balloon/free_page_reporting', { el: b, attr: 'freePageReporting' }, fpr === 'on');
    const stats = ctx.child(b, 'stats');
    if (stats !== undefined) {
      const period = intAttr(ctx, stats, 'period', { min: 0, max: 2147483647 });
      if (period !== undefined) opts.stats_period = put(state, '/balloon/stats_period', { el: stats, attr: 'period' }, period);
      else if (ctx.attr(stats, 'period') === undefined) ctx.error({ el: stats, attr: 'period' }, '<stats> needs period, in seconds');
    }
    balloon = Object.keys(opts).length === 0 ? true : opts;
  });
  if (balloon !== false) draft.balloon = balloon;
  if (devices === undefined) return;

  const rngs: DraftRng[] = [];
  for (const r of ctx.children(devices, 'rng')) {
    const model = ctx.attr(r, 'model');
    if (model !== 'virtio') {
      ctx.drop({ el: r, attr: 'model' }, `RNG model ${model ?? '(none given)'} is not supported; use model='virtio'`);
      continue;
    }
    const backend = ctx.child(r, 'backend');
    const bmodel = backend === undefined ? undefined : ctx.attr(backend, 'model');
    if (backend === undefined || bmodel === undefined) {
      ctx.error(backend ?? r, "<rng> needs <backend model='random'>/dev/urandom</backend> (or model='builtin')");
      continue;
    }
    const at = child('/rngs', rngs.length);
    if (bmodel === 'random') {
      ctx.map(at, r);
      const source = ctx.text(backend);
      // libvirt's default source for QEMU is /dev/random.
      rngs.push({ backend: 'random', source: source === '' ? '/dev/random' : put(state, child(at, 'source'), { el: backend, text: true }, source) });
    } else if (bmodel === 'builtin') {
      ctx.map(at, r);
      rngs.push({ backend: 'builtin' });
    } else {
      ctx.drop({ el: backend, attr: 'model' }, `RNG backend ${bmodel} is not supported yet; use model='random' or 'builtin'`, {}, r);
    }
  }
  if (rngs.length > 0) draft.rngs = rngs;

  const hostdevs: DraftHostdev[] = [];
  for (const h of ctx.children(devices, 'hostdev')) {
    const mode = ctx.attr(h, 'mode');
    const type = ctx.attr(h, 'type');
    if (mode !== 'subsystem' || type !== 'pci') {
      ctx.unsupported(h, `Host device assignment of ${mode ?? '?'}/${type ?? '?'} devices is not supported yet; vmkit assigns PCI devices (mode='subsystem' type='pci')`);
      continue;
    }
    if (yesNoAttr(ctx, h, 'managed') === true) {
      ctx.drop({ el: h, attr: 'managed' }, "managed='yes' (libvirt rebinds the device to vfio-pci) is not supported yet; bind it to vfio-pci yourself and use managed='no'");
      continue;
    }
    const driver = ctx.child(h, 'driver');
    if (driver !== undefined) {
      const name = ctx.attr(driver, 'name');
      if (name !== 'vfio') ctx.unsupported({ el: driver, attr: 'name' }, `Device assignment driver ${name ?? '?'} is not supported; vmkit uses vfio`);
    }
    const at = child('/hostdevs', hostdevs.length);
    const source = ctx.child(h, 'source');
    const addr = source === undefined ? undefined : ctx.child(source, 'address');
    if (addr === undefined) {
      ctx.error(source ?? h, "<hostdev> needs <source><address domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></source>");
      continue;
    }
    const host = pciAddress(state, addr);
    if (host === undefined) continue;
    ctx.map(at, h);
    const out: DraftHostdev = { host: put(state, child(at, 'host'), addr, host) };
    const bootIndex = readDeviceBoot(state, h, at);
    if (bootIndex !== undefined) out.boot_index = bootIndex;
    hostdevs.push(out);
  }
  if (hostdevs.length > 0) draft.hostdevs = hostdevs;
}

/** `<address domain bus slot function>` -> `0000:00:07.0`. */
export function pciAddress(state: ReadState, addr: XmlElement): string | undefined {
  const { ctx } = state;
  const parts: string[] = [];
  const fields = [
    ['domain', 0xffff, 4],
    ['bus', 0xff, 2],
    ['slot', 0x1f, 2],
    ['function', 7, 1],
  ] as const;
  let ok = true;
  const type = ctx.attr(addr, 'type');
  if (type !== undefined && type !== 'pci') ctx.error({ el: addr, attr: 'type' }, 'A host PCI device address has type pci', { found: type });
  for (const [name, max, width] of fields) {
    const v = ctx.attr(addr, name);
    const n = v === undefined ? (name === 'domain' ? 0 : undefined) : /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : undefined;
    if (n === undefined || n > max) {
      ctx.error({ el: addr, attr: name }, `Invalid PCI ${name}`, { expected: `a number from 0 to 0x${max.toString(16)}, like 0x${'0'.repeat(width - 1)}1`, found: v === undefined ? 'nothing' : JSON.stringify(v) });
      ok = false;
      continue;
    }
    parts.push(n.toString(16).padStart(width, '0'));
  }
  return ok ? `${parts[0]}:${parts[1]}:${parts[2]}.${parts[3]}` : undefined;
}

