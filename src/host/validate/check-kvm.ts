/** Hardware virtualization, /dev/kvm, nested virtualization. */
import { join } from 'node:path';
import type { CheckContext } from './context.js';
import { groupName, groupOf, listDir, nodeKind } from './read.js';
import { result, type CheckResult } from './types.js';

/** Loaded KVM vendor modules (`kvm_intel`, `kvm_amd`, or others such as `kvm_pvm`). */
async function kvmModules(ctx: CheckContext): Promise<string[]> {
  return ((await listDir(join(ctx.roots.sys, 'module'))) ?? []).filter((m) => m.startsWith('kvm_')).sort();
}

export async function checkHardwareVirt(ctx: CheckContext): Promise<CheckResult> {
  const id = 'hw-virt';
  const title = 'Hardware virtualization (VT-x/AMD-V)';
  const flags = await ctx.cpuFlags();
  if (flags.has('vmx')) return result(id, title, 'PASS', 'Intel VT-x (vmx)');
  if (flags.has('svm')) return result(id, title, 'PASS', 'AMD-V (svm)');
  const modules = await kvmModules(ctx);
  if ((await nodeKind(join(ctx.roots.dev, 'kvm'))) === 'char') {
    return result(id, title, 'WARN', `the CPU has no vmx/svm flag; KVM comes from ${modules.join(', ') || 'a module'} (software or nested virtualization)`,
      'guests run under this KVM, but slower and with fewer features than on VT-x/AMD-V hardware');
  }
  return result(id, title, 'WARN', 'the CPU has no vmx/svm flag: only TCG emulation is possible (much slower)',
    'enable VT-x/AMD-V (SVM) in the firmware (BIOS/UEFI) settings, or run on hardware that has it');
}

export async function checkKvmDevice(ctx: CheckContext): Promise<CheckResult> {
  const id = 'kvm';
  const title = '/dev/kvm usable';
  const path = join(ctx.roots.dev, 'kvm');
  const kind = await nodeKind(path);
  const flags = await ctx.cpuFlags();
  const hw = flags.has('vmx') ? 'kvm_intel' : flags.has('svm') ? 'kvm_amd' : undefined;
  if (kind === 'missing') {
    // Without VT-x/AMD-V there is nothing to load: TCG is the only choice and hw-virt already says so.
    return hw === undefined
      ? result(id, title, 'WARN', '/dev/kvm does not exist; guests run under TCG only', 'see the hardware virtualization check')
      : result(id, title, 'FAIL', '/dev/kvm does not exist although the CPU supports virtualization', `load the KVM modules: modprobe ${hw}`);
  }
  if (kind !== 'char') {
    return result(id, title, 'FAIL', '/dev/kvm is not a character device', 'remove it and reload the KVM modules (modprobe kvm) so udev recreates it');
  }
  if (await ctx.readWrite(path)) {
    return result(id, title, 'PASS', `read-write for uid ${ctx.uid}`);
  }
  const gid = await groupOf(path);
  const group = gid === undefined ? undefined : (groupName(await ctx.text(join(ctx.roots.etc, 'group')), gid) ?? String(gid));
  return result(id, title, 'FAIL', `this user (uid ${ctx.uid}) cannot open /dev/kvm read-write`,
    group === undefined ? 'give this user read-write access to /dev/kvm' : `add this user to group ${group} (usermod -aG ${group} USER) and log in again`);
}

export async function checkNested(ctx: CheckContext): Promise<CheckResult> {
  const id = 'nested';
  const title = 'Nested virtualization';
  for (const mod of ['kvm_intel', 'kvm_amd']) {
    const v = (await ctx.sys(`module/${mod}/parameters/nested`))?.trim();
    if (v === undefined) continue;
    if (v === 'Y' || v === '1') return result(id, title, 'PASS', `${mod} nested=${v}`);
    return result(id, title, 'WARN', `${mod} nested=${v}: guests cannot run hypervisors themselves`,
      `only needed for hypervisors inside guests: echo "options ${mod} nested=1" > /etc/modprobe.d/kvm-nested.conf, then reload ${mod}`);
  }
  const modules = await kvmModules(ctx);
  return result(id, title, 'WARN', modules.length === 0 ? 'no kvm_intel or kvm_amd module is loaded' : `cannot tell: KVM comes from ${modules.join(', ')}, which has no nested parameter`,
    'only needed for hypervisors inside guests; load kvm_intel or kvm_amd with nested=1');
}
