/** Native YAML `virtio_mem: {size, requested?, block?}` -> VirtioMemSpec, checked against the machine and RAM. Pure. */
import type { MachineSpec, NumaCellSpec, VirtioMemSpec } from '../../model/domain.js';
import { pciRoot } from '../../model/pci.js';
import type { Loose, ResolveContext } from '../resolve-context.js';
import type { DomainInputT } from './schema.js';

/** QEMU's maximum RAM for x86 guests is far above this; vmkit's own bound keeps `maxmem` sane. */
const MAX_TOTAL_MIB = 16 * 1024 * 1024;

export function resolveVirtioMem(
  input: Loose<DomainInputT['virtio_mem']>,
  env: { readonly machine: MachineSpec; readonly memoryMiB: number; readonly numaCells: readonly NumaCellSpec[] },
  ctx: ResolveContext,
): VirtioMemSpec | undefined {
  if (input === undefined) return undefined;
  const at = '/virtio_mem';
  const sizeMiB = ctx.sizeMiB(input.size, `${at}/size`, { minMiB: 2 });
  const requestedMiB = input.requested === undefined ? 0 : ctx.sizeMiB(input.requested, `${at}/requested`, { minMiB: 0 });
  const blockMiB = ctx.sizeMiB(input.block, `${at}/block`, { minMiB: 2 });
  if (pciRoot(env.machine.type) === 'none') {
    ctx.problems.add(at, { message: `virtio-mem is a PCI device: machine ${env.machine.type} has no PCI bus; use q35 or pc`, found: env.machine.type });
  }
  if (env.numaCells.length > 0) {
    ctx.problems.add(at, { message: 'virtio-mem with guest NUMA cells is not supported yet (the device would need a node); leave out numa_cells or virtio_mem' });
  }
  if (sizeMiB === undefined || requestedMiB === undefined) return undefined;
  let ok = true;
  if (blockMiB !== undefined && (blockMiB & (blockMiB - 1)) !== 0) {
    ctx.problems.add(`${at}/block`, { message: 'The block size must be a power of two', expected: '2M, 4M, 8M, ...', found: `${blockMiB}M` });
    ok = false;
  }
  const block = blockMiB ?? 2;
  if (sizeMiB % block !== 0) {
    ctx.problems.add(`${at}/size`, { message: `The size must be a multiple of the block size (${block} MiB)`, found: `${sizeMiB}M` });
    ok = false;
  }
  if (requestedMiB > sizeMiB) {
    ctx.problems.add(`${at}/requested`, { message: `The guest cannot be asked for more than the device holds (${sizeMiB} MiB)`, expected: `at most ${sizeMiB}M`, found: `${requestedMiB}M` });
    ok = false;
  } else if (requestedMiB % block !== 0) {
    ctx.problems.add(`${at}/requested`, { message: `The requested size must be a multiple of the block size (${block} MiB)`, found: `${requestedMiB}M` });
    ok = false;
  }
  if (env.memoryMiB + sizeMiB > MAX_TOTAL_MIB) {
    ctx.problems.add(`${at}/size`, { message: `memory + virtio_mem.size is more than vmkit allows (${MAX_TOTAL_MIB / 1024 / 1024} TiB)`, found: `${env.memoryMiB + sizeMiB} MiB` });
    ok = false;
  }
  if (!ok) return undefined;
  return { sizeMiB, requestedMiB, ...(blockMiB === undefined ? {} : { blockMiB }) };
}
