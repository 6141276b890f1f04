/**
 * The rest of `<devices>`: `<emulator>`, `<controller>` (where it matters), `<serial>`/`<console>`,
 * `<graphics type='vnc'>` with `<video>` and `<input>`, `<memballoon>`, `<rng>` and PCI `<hostdev>`. Pure.
 */
import { child } from '../pointer.js';
import { PC_IDE_SLOT, pciRoot } from '../../model/pci.js';
import { USB_CONTROLLER_MODELS } from '../native/vocabulary.js';
import { put, type DraftBalloon, type DraftController, type DraftHostdev, type DraftRng, type DraftSerial, type ReadState } from './draft.js';
import { hostPciAddress, readGuestAddress, readPciFields } from './read-address.js';
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

const PCI_CONTROLLER_DEVICE: Readonly<Record<string, string>> = {
  'pcie-root-port': 'pcie-root-port',
  'pci-bridge': 'pci-bridge',
  'dmi-to-pci-bridge': 'i82801b11-bridge',
  'pcie-to-pci-bridge': 'pcie-pci-bridge',
};
const USB_MODELS: readonly string[] = USB_CONTROLLER_MODELS;

/**
 * `<controller>`s: the machine's own (PCI root, q35's SATA, pc's IDE: accepted, no QEMU option) and those
 * that become devices (PCIe root ports and PCI bridges, USB, virtio-scsi, SATA on pc, virtio-serial) ->
 * `controllers`. Returns whether a virtio-scsi controller is present (vmkit's SCSI disks need one).
 */
export function readControllers(state: ReadState, devices: XmlElement): { scsi: boolean } {
  const { ctx, draft } = state;
  const root = pciRoot(state.machineType);
  let scsi = false;
  const out: DraftController[] = [];
  for (const c of ctx.children(devices, 'controller')) {
    const type = ctx.attr(c, 'type');
    const index = intAttr(ctx, c, 'index', { min: 0, max: 255 }) ?? 0;
    const model = ctx.attr(c, 'model');
    const at = child('/controllers', out.length);
    const entry = (fields: Omit<DraftController, 'type' | 'index' | 'address'>): void => {
      const address = readGuestAddress(state, c, at, ['pci']);
      ctx.map(at, c);
      ctx.map(child(at, 'index'), { el: c, attr: 'index' });
      if (fields.model !== undefined) ctx.map(child(at, 'model'), { el: c, attr: 'model' });
      out.push({ type: type as string, index, ...fields, ...(address === undefined ? {} : { address }) });
    };
    const builtIn = (what: string): boolean => {
      if (index !== 0) ctx.unsupported({ el: c, attr: 'index' }, `A second ${what} controller is not supported yet`);
      return index === 0;
    };
    switch (type) {
      case 'pci': {
        if (model === 'pci-root' || model === 'pcie-root') {
          const want = root === 'q35' ? 'pcie-root' : 'pci-root';
          if (index !== 0) ctx.error({ el: c, attr: 'index' }, `The ${model} is PCI bus 0: index='0'`, { found: String(index) });
          else if (root !== 'none' && model !== want) ctx.error({ el: c, attr: 'model' }, `Machine ${state.machineType} has a ${want}, not a ${model}`, { expected: want, found: model });
          break;
        }
        const device = model === undefined ? undefined : PCI_CONTROLLER_DEVICE[model];
        if (device === undefined) {
          ctx.drop({ el: c, attr: 'model' }, `PCI controller model ${model ?? '(none)'} is not supported; vmkit has pcie-root-port, pci-bridge, dmi-to-pci-bridge and pcie-to-pci-bridge`, {
            expected: 'pcie-root-port, pci-bridge, dmi-to-pci-bridge or pcie-to-pci-bridge',
          });
          break;
        }
        const m = ctx.child(c, 'model');
        if (m !== undefined) {
          const name = ctx.attr(m, 'name');
          if (name !== device) ctx.unsupported({ el: m, attr: 'name' }, `A ${model} is QEMU's ${device}; other devices (${name ?? '?'}) are not supported`, { expected: device });
        }
        const fields: Omit<DraftController, 'type' | 'index' | 'address'> = { model: model as string };
        const target = ctx.child(c, 'target');
        if (target !== undefined) {
          const hexInt = (name: string): number | undefined => {
            const v = ctx.attr(target, name);
            if (v === undefined) return undefined;
            const n = /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : NaN;
            if (!(n >= 0 && n <= 255)) {
              ctx.error({ el: target, attr: name }, `Invalid ${name}`, { expected: 'a number from 0 to 255 (decimal or 0x hex)', found: JSON.stringify(v) });
              return undefined;
            }
            ctx.map(child(at, name === 'chassisNr' ? 'chassis' : name), { el: target, attr: name });
            return n;
          };
          const chassis = model === 'pcie-root-port' ? hexInt('chassis') : model === 'pci-bridge' ? hexInt('chassisNr') : undefined;
          const port = model === 'pcie-root-port' ? hexInt('port') : undefined;
          if (chassis !== undefined) fields.chassis = chassis;
          if (port !== undefined) fields.port = port;
        }
        entry(fields);
        break;
      }
      case 'usb': {
        if (model === 'none') break;
        if (model !== undefined && !USB_MODELS.includes(model)) {
          ctx.drop({ el: c, attr: 'model' }, `USB controller model ${model} is not supported yet; use ${USB_CONTROLLER_MODELS.join(', ')} (or model='none')`);
          break;
        }
        const fields: Omit<DraftController, 'type' | 'index' | 'address'> = model === undefined ? {} : { model };
        const ports = intAttr(ctx, c, 'ports', { min: 1, max: 15 });
        if (ports !== undefined) {
          fields.ports = ports;
          ctx.map(child(at, 'ports'), { el: c, attr: 'ports' });
        }
        const master = ctx.child(c, 'master');
        if (master !== undefined) {
          const start = intAttr(ctx, master, 'startport', { min: 0, max: 5 });
          if (start !== undefined) {
            fields.master_startport = start;
            ctx.map(child(at, 'master_startport'), { el: master, attr: 'startport' });
          }
        }
        entry(fields);
        break;
      }
      case 'ide':
        if (!builtIn('IDE')) break;
        if (root === 'q35') {
          ctx.unsupported(c, "q35 has no IDE controller (its disks use SATA): remove the <controller type='ide'> and use bus='sata'");
          break;
        }
        // pc's PIIX3 IDE at 00:01.1: built in, no QEMU option.
        builtInAddress(state, c, PC_IDE_SLOT, 'the PIIX3 IDE controller');
        break;
      case 'sata':
        if (builtIn('SATA')) entry({});
        break;
      case 'scsi': {
        if (model !== 'virtio-scsi') {
          ctx.drop({ el: c, attr: 'model' }, `SCSI controller model ${model ?? "(libvirt's default, lsilogic)"} is not supported; vmkit's SCSI disks sit on virtio-scsi: model='virtio-scsi'`, {
            expected: 'virtio-scsi',
          });
          break;
        }
        const driver = ctx.child(c, 'driver');
        if (driver !== undefined && ctx.attr(driver, 'iothread') !== undefined) {
          ctx.unsupported({ el: driver, attr: 'iothread' }, 'An iothread for the SCSI controller is not supported yet; use virtio disks with <driver iothread=...> for dataplane');
        }
        scsi = true;
        // scsi0 without an address is the controller vmkit adds for SCSI disks anyway: nothing to record.
        if (index !== 0 || c.children.some((x) => x.local === 'address')) entry({ model });
        break;
      }
      case 'virtio-serial':
        entry({});
        break;
      case undefined:
        ctx.error({ el: c, attr: 'type' }, '<controller> needs type');
        break;
      default:
        ctx.drop({ el: c, attr: 'type' }, `${type} controllers are not supported yet`);
    }
  }
  if (out.length > 0) draft.controllers = out;
  return { scsi };
}

/** A built-in controller's `<address>`, which may only say where the machine has it. */
function builtInAddress(state: ReadState, c: XmlElement, place: { readonly slot: number; readonly fn: number }, what: string): void {
  const { ctx } = state;
  const addr = ctx.child(c, 'address');
  if (addr === undefined) return;
  const f = readPciFields(state, addr, 'guest');
  ctx.attr(addr, 'multifunction');
  if (f !== undefined && (f.bus !== 0 || f.slot !== place.slot || f.function !== place.fn)) {
    ctx.error(addr, `${what} is built into the machine at 00:${place.slot.toString(16).padStart(2, '0')}.${place.fn}; it cannot move`);
  }
}

/** VGA's video memory in KiB as libvirt writes it (QEMU's default `vgamem_mb=16`). */
const VGA_VRAM_KIB = 16384;

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
      // libvirt writes VGA's default video memory (16 MiB, QEMU's vgamem_mb default) into dumpxml.
      const vram = intAttr(ctx, model, 'vram', { min: 0 });
      if (vram !== undefined && vram !== VGA_VRAM_KIB) ctx.unsupported({ el: model, attr: 'vram' }, `Only the VGA's default video memory (vram='${VGA_VRAM_KIB}', 16 MiB) is supported`, { found: String(vram) });
    }
    if (i === 0 && vnc && typeof draft.graphics === 'object') {
      const address = readGuestAddress(state, v, '/graphics', ['pci']);
      if (address !== undefined) {
        draft.graphics.video_address = address;
        ctx.map('/graphics/video_address', ctx.child(v, 'address') ?? v);
      }
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
  // <audio type='none'>: libvirt 9 adds it next to a VNC display; vmkit gives QEMU no audio device either way.
  for (const audio of ctx.children(devices, 'audio')) {
    const type = ctx.attr(audio, 'type');
    ctx.attr(audio, 'id');
    if (type !== 'none') ctx.unsupported({ el: audio, attr: 'type' }, `Audio backend ${type ?? '(none)'} is not supported: vmkit guests have no sound device (use <audio type='none'/>)`);
  }
  const inputs: NonNullable<typeof draft.inputs> = [];
  for (const input of ctx.children(devices, 'input')) {
    const type = ctx.attr(input, 'type');
    const bus = ctx.attr(input, 'bus');
    // The PS/2 mouse and keyboard are part of every PC: accepted, nothing to add.
    if ((type === 'mouse' || type === 'keyboard') && (bus === undefined || bus === 'ps2')) continue;
    if ((type === 'tablet' || type === 'mouse' || type === 'keyboard') && (bus === 'usb' || (type === 'tablet' && bus === undefined))) {
      const at = child('/inputs', inputs.length);
      ctx.map(at, input);
      const entry: NonNullable<typeof draft.inputs>[number] = { type, bus: 'usb' };
      const addr = ctx.child(input, 'address');
      if (addr !== undefined) {
        const atype = ctx.attr(addr, 'type');
        const ubus = intAttr(ctx, addr, 'bus', { min: 0, max: 255 }) ?? 0;
        const port = ctx.attr(addr, 'port');
        if (atype !== 'usb') ctx.unsupported({ el: addr, attr: 'type' }, `A USB input's address has type='usb'`, { found: atype ?? '(none)' });
        else if (port === undefined || !/^[1-9]\d?(\.[1-9]\d?){0,4}$/.test(port)) ctx.error({ el: addr, attr: 'port' }, 'Invalid USB port', { expected: 'a port like 1 or 1.2', found: port ?? 'nothing' });
        else {
          entry.address = `usb:${ubus}:${port}`;
          ctx.map(child(at, 'address'), addr);
        }
      }
      inputs.push(entry);
      continue;
    }
    ctx.unsupported(input, `Input device ${type ?? '?'}${bus === undefined ? '' : ` on bus ${bus}`} is not supported yet; vmkit guests have the PS/2 keyboard and mouse, and USB tablets, mice and keyboards`);
  }
  if (inputs.length > 0) draft.inputs = inputs;
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
    const address = readGuestAddress(state, b, '/balloon', ['pci']);
    if (address !== undefined) opts.address = address;
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

  for (const ch of ctx.children(devices, 'channel')) {
    const target = ch.children.find((c) => c.local === 'target');
    const name = target?.attrs.find((x) => x.name === 'name')?.value;
    ctx.unsupported(
      ch,
      `<channel>s are not supported yet${name === undefined ? '' : ` (${name})`}: vmkit does not create virtio-serial ports or talk to the guest agent; remove the <channel> (the virtio-serial controller alone is accepted)`,
    );
  }

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
    if (bmodel === 'random' || bmodel === 'builtin') {
      const address = readGuestAddress(state, r, at, ['pci']);
      const addr = address === undefined ? {} : { address };
      ctx.map(at, r);
      if (bmodel === 'random') {
        const source = ctx.text(backend);
        // libvirt's default source for QEMU is /dev/random.
        rngs.push({ backend: 'random', source: source === '' ? '/dev/random' : put(state, child(at, 'source'), { el: backend, text: true }, source), ...addr });
      } else {
        rngs.push({ backend: 'builtin', ...addr });
      }
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
    // managed='yes': vmkit binds the device to vfio-pci before QEMU starts and gives it back after (libvirt's default is no).
    const managed = yesNoAttr(ctx, h, 'managed') ?? false;
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
    if (managed) out.managed = put(state, child(at, 'managed'), { el: h, attr: 'managed' }, true);
    const address = readGuestAddress(state, h, at, ['pci']);
    if (address !== undefined) out.address = address;
    const bootIndex = readDeviceBoot(state, h, at);
    if (bootIndex !== undefined) out.boot_index = bootIndex;
    hostdevs.push(out);
  }
  if (hostdevs.length > 0) draft.hostdevs = hostdevs;
}

/** `<address domain bus slot function>` of a host device -> `0000:00:07.0`. */
export function pciAddress(state: ReadState, addr: XmlElement): string | undefined {
  return hostPciAddress(state, addr);
}
