/** `vmkit show NAME`: state, pid, uptime, vCPUs, memory, disks, NICs, console, last stop. */
import type { DomainInfo } from '../../driver/api-types.js';
import { describeStop, emit, formatDuration, formatMiB, withConnection, type ConnectFlags } from './remote.js';

export function showCommand(name: string, flags: ConnectFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const info = await conn.lookup(name).info();
    emit(flags, info, describe(info));
  });
}

function describe(d: DomainInfo): string {
  const lines: [string, string][] = [
    ['Name', d.name],
    ['UUID', d.uuid],
    ['State', d.pausedReason === undefined ? d.state : `${d.state} (${d.pausedReason})`],
    ['PID', d.pid === undefined ? '-' : String(d.pid)],
    ['Uptime', d.uptimeMs === undefined ? '-' : formatDuration(d.uptimeMs)],
    ['Machine', d.machine],
    ['vCPUs', String(d.vcpus)],
    ['Memory', formatMiB(d.memoryMiB)],
    ['Autostart', d.autostart ? 'yes' : 'no'],
    ['Policies', `on_poweroff=${d.policies.onPoweroff} on_reboot=${d.policies.onReboot} on_crash=${d.policies.onCrash}`],
    ['Format', d.format + (d.file === undefined ? '' : ` (${d.file})`)],
    ...(d.vnc === undefined ? [] : ([['VNC', `${d.vnc.host.includes(':') ? `[${d.vnc.host}]` : d.vnc.host}:${d.vnc.port}`]] as [string, string][])),
    ['Console', d.console === undefined ? '-' : [d.console.socket, d.console.log].filter((x) => x !== undefined).join(', log ')],
    ...(d.hotplug === undefined ? [] : ([['Hotplug', `${d.hotplug.rootPorts} PCIe root ports reserved, ${d.hotplug.free} free`]] as [string, string][])),
    ['Last stop', describeStop(d.lastStop)],
  ];
  const disks = d.disks.map((x) => `  ${x.id}: ${x.path} (${x.format}, ${x.bus}, ${x.media}${x.readonly ? ', read-only' : ''})`);
  const nics = d.nics.map((n) => `  ${n.id}: ${n.kind} ${n.model}${n.mac === undefined ? '' : ` ${n.mac}`}${[n.ifname, n.bridge, n.network].map((x) => (x === undefined ? '' : ` ${x}`)).join('')}`);
  const w = Math.max(...lines.map(([k]) => k.length));
  return [
    ...lines.map(([k, v]) => `${`${k}:`.padEnd(w + 2)}${v}`),
    `Disks:${disks.length === 0 ? ' none' : ''}`,
    ...disks,
    `NICs:${nics.length === 0 ? ' none' : ''}`,
    ...nics,
  ].join('\n');
}
