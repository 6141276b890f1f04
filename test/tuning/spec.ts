/** DomainSpec builders for tuning tests (specs are built directly, not parsed). */
import { fileURLToPath } from 'node:url';
import { DEFAULT_MEMORY_BACKING, EMPTY_TUNING, type CpuSpec, type DomainSpec, type TuningSpec } from '../../src/model/domain.js';

/** test/fixtures/sysfs/<name> in the source tree (tests run from dist/test/...). */
export function sysfsFixture(name: string): string {
  return fileURLToPath(new URL(`../../../test/fixtures/sysfs/${name}`, import.meta.url));
}

export function cpuSpec(vcpus: number, shape: Partial<Omit<CpuSpec, 'vcpus'>> = {}): CpuSpec {
  return { vcpus, sockets: shape.sockets ?? 1, cores: shape.cores ?? vcpus, threads: shape.threads ?? 1 };
}

export function domain(tuning: Partial<TuningSpec>, more: Partial<DomainSpec> = {}): DomainSpec {
  return {
    name: 't',
    emulator: 'qemu-system-x86_64',
    machine: { type: 'q35', accel: 'tcg' },
    cpu: cpuSpec(2),
    memoryMiB: 64,
    memoryBacking: DEFAULT_MEMORY_BACKING,
    numaCells: [],
    disks: [],
    nics: [],
    serial: { mode: 'none' },
    graphics: { type: 'none' },
    iothreads: [],
    qemuArgs: [],
    process: { env: {}, clearEnv: false },
    source: { format: 'vmkit-yaml' },
    ...more,
    tuning: { ...EMPTY_TUNING, ...tuning },
  };
}
