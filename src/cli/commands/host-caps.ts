import { CapsCache, sharedCacheDir, versionText, type QemuCaps } from '../../host/caps/index.js';
import { EXIT } from '../exit-codes.js';
import { printJson, reportError } from '../output.js';

export interface HostCapsFlags {
  readonly binary?: string;
  readonly json?: boolean;
}

export const DEFAULT_BINARY = 'qemu-system-x86_64';

/**
 * `vmkit host caps [--binary PATH] [--json]`: what one QEMU binary offers, from the shared capability cache
 * (a cold or stale entry probes the binary once: one paused QEMU without a guest).
 */
export async function hostCapsCommand(flags: HostCapsFlags): Promise<number> {
  try {
    const cache = new CapsCache({ cacheDir: sharedCacheDir() });
    const binary = flags.binary ?? DEFAULT_BINARY;
    const warm = (await cache.peek(binary)) !== undefined;
    const caps = await cache.lookup(binary, { timeoutMs: 60_000 });
    if (flags.json === true) printJson(caps);
    else process.stdout.write(formatCaps(caps, warm));
    return EXIT.ok;
  } catch (e) {
    return reportError(e, flags);
  }
}

/** Names wrapped to `width` columns, each line indented. */
function wrap(names: readonly string[], indent = '    ', width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const n of names) {
    if (line !== '' && indent.length + line.length + 1 + n.length > width) {
      lines.push(line);
      line = '';
    }
    line = line === '' ? n : `${line} ${n}`;
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => `${indent}${l}\n`).join('');
}

export function formatCaps(caps: QemuCaps, warm: boolean): string {
  const kvm = caps.kvm.enabled ? 'usable' : caps.kvm.present ? 'built in, but /dev/kvm is missing or not usable by this user' : 'not built in';
  // Probed under qtest: neither KVM nor TCG could start, so no guest runs and CPU usability means nothing.
  const qtest = caps.probeAccel === 'qtest';
  const machines = caps.machines.map((m) => `${m.alias === undefined ? '' : `${m.alias}=`}${m.name}${m.isDefault ? '*' : ''}${m.deprecated ? '(deprecated)' : ''}`);
  const byBus = new Map<string, string[]>();
  for (const d of caps.devices) byBus.set(d.bus, [...(byBus.get(d.bus) ?? []), d.name]);
  const out = [
    `binary        ${caps.binary}\n`,
    `version       QEMU ${versionText(caps.version)}${caps.version.package === '' ? '' : ` (${caps.version.package})`}\n`,
    `arch          ${caps.arch}\n`,
    `kvm           ${kvm}\n`,
    `accelerators  ${caps.accels.join(', ')}${qtest ? ' (probed under qtest: no accelerator can run a guest here)' : ''}\n`,
    `probed        ${caps.probe.at} in ${Math.round(caps.probe.ms)} ms (${warm ? 'from the cache' : 'just now'})\n`,
    `machines (${caps.machines.length}; alias=name, * default)\n`,
    wrap(machines),
    `cpu models (${caps.cpuModels.length}; ${qtest ? 'usability unknown: no guest accelerator could start' : `! = not fully usable under ${caps.probeAccel}`})\n`,
    wrap(caps.cpuModels.map((c) => `${c.name}${c.usable || qtest ? '' : '!'}`)),
  ];
  for (const bus of ['pci', 'virtio', 'scsi', 'ide', 'usb', 'isa', 'sysbus', 'cpu', 'other']) {
    const names = byBus.get(bus);
    if (names !== undefined) out.push(`devices on ${bus} (${names.length})\n`, wrap(names));
  }
  out.push(
    `objects (${caps.objects.length})\n`,
    wrap(caps.objects),
    `chardev backends\n`,
    wrap(caps.chardevBackends),
    `netdev backends\n`,
    wrap(caps.netdevBackends),
  );
  return out.join('');
}
