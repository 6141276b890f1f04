/**
 * Guest addresses reach QEMU: the `virsh dumpxml` fixtures (libvirt 9) and the address golden cases start
 * paused under TCG, and every device the definition places is read back over QMP (`qom-get` of its
 * `parent_bus` and `addr`, the SCSI/IDE place of disks) where the definition put it. Host devices are left
 * out of the started VM (this host has none to assign); their argv is pinned by the golden files.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';

import { parseDefinition } from '../../src/config/index.js';
import type { DomainSpec, DriveAddressSpec, PciAddressSpec } from '../../src/model/domain.js';
import { pciRoot } from '../../src/model/pci.js';
import { buildArgv } from '../../src/qemu/argv/index.js';
import { ARGV_CASES, argvContext } from './fixtures.js';
import { REPO_ROOT } from './golden.js';
import { createSpecFiles, runPaused, type QmpLink } from './qemu-harness.js';

const TIMEOUT_MS = 30_000;
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** The spec made runnable here: images under a temp root, no host devices, VNC on a free display. */
function runnable(spec: DomainSpec, root: string): DomainSpec {
  const graphics = spec.graphics.type === 'vnc' ? { type: 'vnc' as const, listen: spec.graphics.listen, display: 90, ...(spec.graphics.videoAddress === undefined ? {} : { videoAddress: spec.graphics.videoAddress }) } : spec.graphics;
  const { hostdevs: _h, ...rest } = spec;
  return {
    ...rest,
    emulator: 'qemu-system-x86_64',
    machine: { ...spec.machine, accel: 'tcg' },
    disks: spec.disks.map((d) => ({ ...d, path: join(root, `${d.id}.${d.format === 'raw' ? 'img' : d.format}`) })),
    nics: spec.nics.filter((n) => n.kind !== 'hostdev'),
    graphics,
  };
}

interface PciExpectation {
  readonly id: string;
  readonly address: PciAddressSpec;
}

/** Every device of `spec` that has a guest PCI address, by its QEMU id. */
function pciExpectations(spec: DomainSpec): PciExpectation[] {
  const out: PciExpectation[] = [];
  const push = (id: string, address: PciAddressSpec | undefined): void => {
    if (address !== undefined) out.push({ id, address });
  };
  for (const c of spec.controllers ?? []) {
    if (c.type === 'pci') push(`pci.${c.index}`, c.address);
    else if (c.type === 'usb' && !c.model.startsWith('ich9-uhci')) push(c.index === 0 ? 'usb' : `usb${c.index}`, c.address);
    else if (c.type === 'virtio-serial') push(`virtio-serial${c.index}`, c.address);
    else if (c.type === 'scsi') push(`scsi${c.index}`, c.address);
    else if (c.type === 'sata') push('ahci0', c.address);
  }
  for (const d of spec.disks) if (d.address?.type === 'pci') push(d.id, d.address);
  for (const n of spec.nics) push(n.id, n.address);
  push('balloon0', spec.balloon?.address);
  (spec.rngs ?? []).forEach((r, i) => push(`rng${i}`, r.address));
  if (spec.graphics.type === 'vnc') push('video0', spec.graphics.videoAddress);
  return out;
}

async function qom(qmp: QmpLink, id: string, property: string): Promise<unknown> {
  const r = await qmp.command('qom-get', { path: `/machine/peripheral/${id}`, property });
  return r['return'];
}

/** Checks every placed device of `spec` in the paused QEMU; returns how many were checked. */
async function checkPlacement(qmp: QmpLink, spec: DomainSpec): Promise<number> {
  const root = pciRoot(spec.machine.type);
  const rootBus = root === 'q35' ? '/machine/q35/pcie.0' : '/machine/i440fx/pci.0';
  const busPath = (index: number): string => (index === 0 ? rootBus : `/machine/peripheral/pci.${index}/pci.${index}`);
  let checked = 0;
  for (const { id, address } of pciExpectations(spec)) {
    const where = `${id} at bus ${address.bus} slot ${address.slot} function ${address.function}`;
    assert.equal(await qom(qmp, id, 'parent_bus'), busPath(address.bus), `${where}: bus`);
    assert.equal(await qom(qmp, id, 'addr'), address.slot * 8 + address.function, `${where}: devfn`);
    if (address.multifunction === true) assert.equal(await qom(qmp, id, 'multifunction'), true, `${where}: multifunction`);
    checked++;
  }
  for (const d of spec.disks) {
    const a: DriveAddressSpec | undefined = d.address?.type === 'drive' ? d.address : undefined;
    if (a === undefined) continue;
    const bus = String(await qom(qmp, d.id, 'parent_bus'));
    if (d.bus === 'scsi') {
      assert.equal(bus, `/machine/peripheral/scsi${a.controller}/virtio-backend/scsi${a.controller}.0`, `${d.id}: SCSI controller`);
      assert.deepEqual([await qom(qmp, d.id, 'channel'), await qom(qmp, d.id, 'scsi-id'), await qom(qmp, d.id, 'lun')], [a.bus, a.target, a.unit], `${d.id}: channel, scsi-id, lun`);
    } else if (d.bus === 'ide' && root === 'pc') {
      assert.match(bus, new RegExp(`/ide\\.${a.bus}$`), `${d.id}: IDE bus`);
      assert.equal(await qom(qmp, d.id, 'unit'), a.unit, `${d.id}: IDE unit`);
    } else {
      // SATA: one AHCI port per bus; q35's built-in AHCI names them ide.N, the added one ahci0.N.
      assert.match(bus, new RegExp(`/(ide|ahci0)\\.${a.unit}$`), `${d.id}: SATA port`);
    }
    checked++;
  }
  for (const [i, d] of (spec.inputs ?? []).entries()) {
    if (d.address === undefined) continue;
    const id = d.address.bus === 0 ? 'usb' : `usb${d.address.bus}`;
    assert.equal(await qom(qmp, `input${i}`, 'parent_bus'), `/machine/peripheral/${id}/${id}.0`, `input${i}: USB bus`);
    assert.equal(await qom(qmp, `input${i}`, 'port'), d.address.port, `input${i}: USB port`);
    checked++;
  }
  return checked;
}

async function startAndCheck(spec: DomainSpec): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), 'vmkit-addr-'));
  roots.push(root);
  const s = runnable(spec, root);
  createSpecFiles(s);
  const ctx = argvContext(root);
  let checked = 0;
  const run = await runPaused(buildArgv(s, ctx), {
    ...ctx.paths,
    timeoutMs: TIMEOUT_MS,
    session: async (qmp) => {
      checked = await checkPlacement(qmp, s);
    },
  });
  const context = `QEMU ${run.code === null ? `killed by ${run.signal}` : `exited ${run.code}`}; stderr: ${run.stderr}`;
  if (run.sessionError !== undefined) throw run.sessionError;
  assert.ok(run.sessionDone, `QEMU never answered QMP: ${context}`);
  assert.equal(run.code, 0, context);
  return checked;
}

describe('guest addresses as QEMU 7.2 sees them (paused VMs, TCG)', () => {
  for (const [name, devices] of [
    ['dumpxml-q35.xml', 25],
    ['dumpxml-i440fx.xml', 10],
  ] as const) {
    test(`every device of the virsh dumpxml fixture ${name} sits at the address the XML gives`, { timeout: TIMEOUT_MS + 5000 }, async () => {
      const file = join(REPO_ROOT, 'test/fixtures/libvirt', name);
      const spec = parseDefinition(readFileSync(file, 'utf8'), { file, baseDir: dirname(file) });
      assert.equal(await startAndCheck(spec), devices, 'devices checked');
    });
  }
  for (const name of ['pci-addresses-q35', 'pci-addresses-pc', 'usb-ich9-companions']) {
    test(`the golden case ${name} puts its devices where the spec says`, { timeout: TIMEOUT_MS + 5000 }, async () => {
      const c = ARGV_CASES.find((x) => x.name === name);
      assert.ok(c !== undefined);
      assert.ok((await startAndCheck(c.spec(tmpdir()))) > 0);
    });
  }
});
