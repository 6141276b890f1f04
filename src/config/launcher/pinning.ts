/**
 * qemu-launcher `vcpu_pinning` (socket -> core -> thread -> host CPU) -> vCPU index pins, using the `-smp`
 * topology: index = ((socket * cores) + core) * threads + thread (QEMU's cpu-index order). Pure.
 */
import type { CpuSet, CpuSpec } from '../../model/domain.js';
import { child } from '../pointer.js';
import type { ResolveContext } from '../resolve-context.js';

type PinInput = Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, number | string | undefined>> | undefined>> | undefined>>;

export function resolveLauncherPins(
  input: PinInput | undefined,
  topology: { cpu: CpuSpec; known: boolean; source: string },
  ctx: ResolveContext,
  at = '/launcher/vcpu_pinning',
): { vcpu: number; cpus: CpuSet }[] {
  const pins: { vcpu: number; cpus: CpuSet }[] = [];
  if (input === undefined) return pins;
  const { cpu } = topology;
  const outside = (p: string, what: string, id: number, count: number, key: string): void => {
    ctx.problems.add(p, {
      message: `vCPU ${what} ${id} does not exist: ${topology.source} gives ${key}=${count} (${what}s 0-${count - 1}); fix the pinning or the topology`,
      expected: `a ${what} number from 0 to ${count - 1}`,
      found: String(id),
      at: 'key',
    });
  };
  for (const [s, cores] of Object.entries(input)) {
    const sp = child(at, s);
    const socket = Number(s);
    if (topology.known && socket >= cpu.sockets) {
      outside(sp, 'socket', socket, cpu.sockets, 'sockets');
      continue;
    }
    for (const [c, threads] of Object.entries(cores ?? {})) {
      const cp = child(sp, c);
      const core = Number(c);
      if (topology.known && core >= cpu.cores) {
        outside(cp, 'core', core, cpu.cores, 'cores');
        continue;
      }
      for (const [t, host] of Object.entries(threads ?? {})) {
        const tp = child(cp, t);
        const thread = Number(t);
        if (topology.known && thread >= cpu.threads) {
          outside(tp, 'thread', thread, cpu.threads, 'threads');
          continue;
        }
        const cpus = ctx.cpus(host, tp);
        if (cpus !== undefined) pins.push({ vcpu: (socket * cpu.cores + core) * cpu.threads + thread, cpus });
      }
    }
  }
  return pins.sort((a, b) => a.vcpu - b.vcpu);
}
