/**
 * Positions in a qemu-launcher file for native JSON pointers. The spec's fields come from the `qemu:`
 * options and the `launcher:` section, so a pointer is mapped to what wrote it: `/machine/type` to the last
 * `-machine` item, `/cpu/model` to `-cpu`, `/cpu/vcpus` to `-smp`, `/memory` to `-m`, `/tuning/pinning/vcpus/N`
 * to vCPU N's entry in `vcpu_pinning`, `/emulator` to `launcher.binary`; `/qemu/...` and `/launcher/...`
 * pointers are used as they are. A value QEMU takes by default (no such option) is placed at the `qemu:`
 * list. For problems found after parsing; the text is read only when one needs a position. Pure.
 */
import type { CpuSpec } from '../../model/domain.js';
import { child, displayPath, segments } from '../pointer.js';
import { Problems } from '../problems.js';
import { readYaml } from '../yaml-source.js';
import { compileQemuOptions, type CompiledOption } from './qemu-options.js';
import { parseQemuOpts } from './qemu-opts.js';

export interface LauncherPosition {
  readonly file?: string;
  readonly line: number;
  readonly col: number;
  /** Where in the file that is, in its own terms: `qemu[1]`, `launcher.vcpu_pinning`. */
  readonly path: string;
}

/** Top-level native fields that qemu-launcher spells the same inside `launcher:`. */
const LAUNCHER_FIELDS = new Set(['user', 'group', 'env', 'clear_env']);

/** The `launcher:`/`qemu:` pointer that wrote the native field at `pointer`. */
export function launcherPointer(pointer: string, options: readonly CompiledOption[], cpu?: Pick<CpuSpec, 'cores' | 'threads'>): string {
  const segs = segments(pointer);
  const [top, sub] = segs;
  if (top === undefined || top === 'launcher' || top === 'qemu') return pointer;
  const last = (...names: string[]): string | undefined => {
    for (let i = options.length - 1; i >= 0; i--) {
      const o = options[i] as CompiledOption;
      if (names.includes(o.option.name)) return o.pointer;
    }
    return undefined;
  };
  const found = ((): string | undefined => {
    switch (top) {
      case 'emulator':
        return '/launcher/binary';
      case 'name':
        return last('name');
      case 'machine':
        if (sub === 'accel') {
          const machineAccel = [...options].reverse().find((o) => (o.option.name === 'machine' || o.option.name === 'M') && parseQemuOpts(o.option.value ?? '', 'type').has('accel'));
          return last('accel', 'enable-kvm') ?? machineAccel?.pointer ?? last('machine', 'M');
        }
        return last('machine', 'M');
      case 'cpu':
        return sub === 'model' || sub === 'features' ? last('cpu') : last('smp');
      case 'memory':
        return last('m');
      case 'memory_backing':
        return sub === 'prealloc' ? last('mem-prealloc') : sub === 'locked' ? last('overcommit') : last('mem-path');
      case 'iothreads': {
        const io = options.filter((o) => o.option.name === 'object' && parseQemuOpts(o.option.value ?? '', 'qom-type').get('qom-type') === 'iothread');
        return io[Number(sub ?? 0)]?.pointer ?? io[0]?.pointer;
      }
      case 'serial':
        return last('serial', 'nographic');
      case 'graphics':
        return last('vnc');
      case 'tuning':
        return tuningPointer(segs.slice(1), cpu);
      default:
        return LAUNCHER_FIELDS.has(top) ? `/launcher/${segs.join('/')}` : undefined;
    }
  })();
  return found ?? '/qemu';
}

/** `tuning` fields: pins and isolation come from `vcpu_pinning`, the vCPU scheduler from `scheduler`/`priority`. */
function tuningPointer(segs: readonly string[], cpu: Pick<CpuSpec, 'cores' | 'threads'> | undefined): string | undefined {
  const [sub, group, key] = segs;
  switch (sub) {
    case 'pinning': {
      const at = '/launcher/vcpu_pinning';
      const vcpu = Number(key);
      if (group !== 'vcpus' || key === undefined || !/^\d+$/.test(key) || cpu === undefined) return at;
      // vCPU index = ((socket * cores) + core) * threads + thread, as resolveLauncherPins() computes it.
      const thread = vcpu % cpu.threads;
      const core = Math.floor(vcpu / cpu.threads) % cpu.cores;
      const socket = Math.floor(vcpu / (cpu.threads * cpu.cores));
      return child(child(child(at, socket), core), thread);
    }
    case 'isolate':
      // qemu-launcher isolates whatever vcpu_pinning pins.
      return '/launcher/vcpu_pinning';
    case 'scheduler':
      // qemu-launcher schedules the vCPU threads only: /tuning/scheduler/vcpus/{policy,priority}.
      return key === 'priority' ? '/launcher/priority' : '/launcher/scheduler';
    case 'rlimit_memlock':
    case 'debug':
      return `/launcher/${sub}`;
    default:
      return undefined;
  }
}

/**
 * A locator over a qemu-launcher `text`: native pointer -> position of what wrote it, with that place's
 * path. `cpu` (the spec's topology) maps vCPU pins back to their socket/core/thread entry. Text that is not
 * YAML yields a locator that always returns undefined.
 */
export function launcherLocator(text: string, file?: string, opts: { cpu?: Pick<CpuSpec, 'cores' | 'threads'> } = {}): (pointer: string) => LauncherPosition | undefined {
  const src = readYaml(text, file);
  if (src.fatal) return () => undefined;
  const options = compileQemuOptions(src.doc, src.index, new Problems({ file, index: src.index }));
  return (pointer) => {
    const target = launcherPointer(pointer, options, opts.cpu);
    const pos = src.index.pos(target);
    if (pos === undefined) return undefined;
    return { ...(file === undefined ? {} : { file }), line: pos.line, col: pos.col, path: displayPath(target, src.value) };
  };
}
