/** IOMMU for device assignment (VFIO): present in the platform, and enabled in the kernel. */
import { join } from 'node:path';
import type { CheckContext } from './context.js';
import { listDir, nodeKind } from './read.js';
import { result, type CheckResult } from './types.js';

export async function checkIommuHardware(ctx: CheckContext): Promise<CheckResult> {
  const id = 'iommu-hw';
  const title = 'IOMMU in the platform (device assignment)';
  const tables = join(ctx.roots.sys, 'firmware/acpi/tables');
  if ((await nodeKind(join(tables, 'DMAR'))) !== 'missing') return result(id, title, 'PASS', 'Intel VT-d (ACPI DMAR table)');
  if ((await nodeKind(join(tables, 'IVRS'))) !== 'missing') return result(id, title, 'PASS', 'AMD-Vi (ACPI IVRS table)');
  const units = (await listDir(join(ctx.roots.sys, 'class/iommu'))) ?? [];
  if (units.length > 0) return result(id, title, 'PASS', `IOMMU units: ${units.sort().join(', ')}`);
  return result(id, title, 'WARN', 'no DMAR/IVRS ACPI table and no IOMMU unit: PCI device assignment is not possible',
    'only needed for device assignment: enable VT-d / AMD-Vi (IOMMU) in the firmware settings');
}

export async function checkIommuKernel(ctx: CheckContext): Promise<CheckResult> {
  const id = 'iommu-kernel';
  const title = 'IOMMU enabled in the kernel';
  const groups = (await listDir(join(ctx.roots.sys, 'kernel/iommu_groups'))) ?? [];
  if (groups.length > 0) return result(id, title, 'PASS', `${groups.length} IOMMU group${groups.length === 1 ? '' : 's'}`);
  const cmdline = ((await ctx.proc('cmdline')) ?? '').trim().split(/\s+/);
  const vendor = await ctx.cpuVendor();
  const param = vendor === 'amd' ? 'amd_iommu' : 'intel_iommu';
  const set = cmdline.find((a) => a.startsWith('intel_iommu=') || a.startsWith('amd_iommu=') || a.startsWith('iommu='));
  if (set !== undefined && !/=(off|0)$/.test(set)) {
    return result(id, title, 'WARN', `${set} is on the kernel command line, but the kernel created no IOMMU groups`,
      'only needed for device assignment: check that VT-d / AMD-Vi is enabled in the firmware');
  }
  return result(id, title, 'WARN', set === undefined ? 'no IOMMU groups: the kernel does not use an IOMMU' : `no IOMMU groups (${set} on the kernel command line)`,
    `only needed for device assignment: add ${param}=on${vendor === 'intel' || vendor === 'other' ? ' iommu=pt' : ''} to the kernel command line and reboot`);
}
