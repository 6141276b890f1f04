import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ConfigError, openEmbedded, VmkitError, type Connection } from '../../src/index.js';
import { exportNativeYaml } from '../../src/config/native/export-native.js';
import { parseDefinition } from '../../src/config/index.js';
import type { Domain } from '../../src/driver/domain.js';
import { buildArgv } from '../../src/qemu/argv/index.js';
import { setMemory } from '../../src/vmops/memory.js';
import { ACCEL_NOTE, REPO, tinyYaml } from '../helpers/guest.js';
import { watchConsole, type ConsoleWatch } from './guest-console.js';
import { argvContext } from '../qemu/fixtures.js';

const MiB = 1024 * 1024;

function problems(text: string): { path: string; message: string; line?: number }[] {
  try {
    parseDefinition(text, { file: 'vm.yaml', baseDir: '/' });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return [...e.problems];
  }
  assert.fail('expected problems');
}

describe('virtio-mem in the definition (pure)', () => {
  const yaml = (vm: string, machine = 'q35'): string => `name: m\nmachine: { type: ${machine} }\nmemory: 256M\nvirtio_mem: ${vm}\n`;

  it('virtio_mem gives -m maxmem=, a RAM backend and a virtio-mem-pci device with the requested size; the native exporter keeps it', () => {
    const spec = parseDefinition(yaml('{ size: 768M, requested: 128M, block: 4M }'), { baseDir: '/' });
    assert.deepEqual(spec.virtioMem, { sizeMiB: 768, requestedMiB: 128, blockMiB: 4 });
    const argv = buildArgv(spec, argvContext());
    const m = argv.indexOf('-m');
    assert.equal(argv[m + 1], '256M,maxmem=1024M');
    assert.ok(argv.includes('memory-backend-ram,id=vmkit-vmem0,size=768M'), argv.join(' '));
    assert.ok(argv.some((a) => a.startsWith('virtio-mem-pci,id=vmem0,memdev=vmkit-vmem0,requested-size=128M,block-size=4M')), argv.join(' '));
    const again = parseDefinition(exportNativeYaml(spec), { baseDir: '/' });
    assert.deepEqual(again.virtioMem, spec.virtioMem);
    assert.equal(parseDefinition(yaml('{ size: 1G }'), { baseDir: '/' }).virtioMem?.requestedMiB, 0, 'requested defaults to 0');
  });

  it('bad virtio_mem values are placed at their field with what to write', () => {
    const ps = problems(yaml('{ size: 100M, requested: 200M, block: 3M }'));
    assert.ok(ps.some((p) => p.path === 'virtio_mem.block' && /power of two/.test(p.message)), JSON.stringify(ps));
    const over = problems(yaml('{ size: 128M, requested: 256M }'));
    assert.ok(over.some((p) => p.path === 'virtio_mem.requested' && /more than the device holds \(128 MiB\)/.test(p.message) && p.line === 4), JSON.stringify(over));
    const odd = problems(yaml('{ size: 129M }'));
    assert.ok(odd.some((p) => p.path === 'virtio_mem.size' && /multiple of the block size \(2 MiB\)/.test(p.message)), JSON.stringify(odd));
    const micro = problems(yaml('{ size: 128M }', 'microvm'));
    assert.ok(micro.some((p) => p.path === 'virtio_mem' && /no PCI bus/.test(p.message)), JSON.stringify(micro));
  });
});

/** Is the virtio_mem driver in the tiny guest's initrd (scripts/build-guest.sh lists it in the device group)? Read from the initrd itself. */
function guestHasVirtioMem(): boolean {
  const list = execFileSync('cpio', ['-i', '--quiet', '--to-stdout', 'lib/modules/load.list'], { input: readFileSync(join(REPO, '.cache/guest/initrd.img')), encoding: 'utf8' });
  return /^mem virtio_mem\.ko /m.test(list);
}

describe(`setmem: virtio-mem in a running guest (real QEMU; ${ACCEL_NOTE})`, () => {
  let base: string;
  let conn: Connection;
  let d: Domain;
  let c: ConsoleWatch;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'vmkit-test-vmem-'));
    conn = await openEmbedded({ root: join(base, 'root') });
    d = (await conn.define({ text: tinyYaml({ name: 'vmem', action: 'count', extra: 'virtio_mem: { size: 256M }' }) })) as Domain;
    c = watchConsole(d);
    await d.start();
    await c.waitCount(3);
  });
  after(async () => {
    await conn?.close();
    await rm(base, { recursive: true, force: true });
  });

  const qomSize = async (): Promise<number> => ((await d.process?.qmp?.execute<number>('qom-get', { path: '/machine/peripheral/vmem0', property: 'size' })) ?? -1) / MiB;
  const memTotalKiB = async (): Promise<number> => {
    const from = c.text().length;
    d.writeConsole('mem\n');
    const m = await c.waitFor(/VMKIT-REPORT memtotal=(\d+)\r?\n/, 30_000, from);
    return Number(m[1]);
  };

  it('setmem sets requested-size; QEMU\'s size follows as the guest\'s driver plugs the blocks, and the guest sees the memory', { timeout: 180_000 }, async () => {
    assert.equal(await qomSize(), 0, 'nothing plugged at start (requested 0)');
    const before = await memTotalKiB();
    const hasDriver = guestHasVirtioMem();
    const r = await setMemory(d, 128, { timeoutMs: hasDriver ? 120_000 : 3_000 });
    assert.equal(r.requestedMiB, 128);
    assert.equal((await d.process?.qmp?.execute<number>('qom-get', { path: '/machine/peripheral/vmem0', property: 'requested-size' })) ?? 0, 128 * MiB);
    assert.equal(r.pluggedMiB, await qomSize(), 'the result is what QEMU says');
    if (!hasDriver) {
      // The guest kernel cannot plug: vmkit says so, never pretends.
      assert.equal(r.complete, false);
      assert.equal(r.pluggedMiB, 0);
      return;
    }
    assert.equal(r.complete, true, `plugged ${r.pluggedMiB} of 128 MiB`);
    assert.equal(r.pluggedMiB, 128);
    // The guest's MemTotal grows by about that much (the memmap of the new memory takes a little of it).
    let after = await memTotalKiB();
    for (let i = 0; i < 20 && after - before < 120 * 1024; i++) {
      await delay(250);
      after = await memTotalKiB();
    }
    assert.ok(after - before >= 120 * 1024 && after - before <= 128 * 1024, `MemTotal went from ${before} to ${after} KiB`);
    assert.equal(d.live?.hot.memRequestedMiB, 128, 'kept in the run\'s hot state (restore and migration start with it)');
    assert.equal(d.spec.virtioMem?.requestedMiB, 0, 'the definition is unchanged without --persistent');
  });

  it('setmem refuses sizes the device cannot take, naming the limits, and changes nothing', { timeout: 30_000 }, async () => {
    const now = d.live?.hot.memRequestedMiB;
    await assert.rejects(setMemory(d, 512), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument' && /0 to 256 MiB of hot-pluggable memory \(on top of its 256 MiB\), in multiples of 2 MiB; got 512 MiB/.test(e.message));
    await assert.rejects(setMemory(d, 3), (e: unknown) => e instanceof VmkitError && e.code === 'InvalidArgument');
    assert.equal(d.live?.hot.memRequestedMiB, now);
    const plain = (await conn.define({ text: tinyYaml({ name: 'plain', action: 'count' }) })) as Domain;
    await plain.start({ paused: true });
    try {
      await assert.rejects(setMemory(plain, 128), (e: unknown) => e instanceof VmkitError && /has no hot-pluggable memory: define it with virtio_mem/.test(e.message));
    } finally {
      await plain.destroy();
    }
  });

  it('--persistent writes the requested size into the definition', { timeout: 180_000 }, async () => {
    const r = await setMemory(d, 64, { persistent: true, timeoutMs: guestHasVirtioMem() ? 120_000 : 2_000 });
    assert.equal(r.persistent, true);
    assert.equal(d.spec.virtioMem?.requestedMiB, 64);
    assert.match((await d.definition()).text, /requested: 64/);
  });
});
