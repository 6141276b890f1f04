/**
 * QEMU 7.2 accepts the device options vmkit generates for serial files and sockets, VNC on an automatic
 * port, the balloon's options and RNGs: each spec starts paused (TCG) with QMP answering, nothing on stderr,
 * and QMP shows the result (the VNC port QEMU picked, the serial file and socket it created).
 *
 * A bridge NIC and an assigned PCI device cannot start here: `-netdev bridge` runs the setuid bridge helper
 * (needs a real bridge and /etc/qemu/bridge.conf) and `vfio-pci` needs a device bound to vfio-pci. For those
 * the test checks, against this QEMU binary, only that every option name vmkit writes exists (the netdev
 * type, the device and its properties) — argv parsing, not a start.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import type { DomainSpec } from '../../src/model/domain.js';
import { buildArgv } from '../../src/qemu/argv/index.js';
import { argvContext, baseSpec } from './fixtures.js';
import { QEMU, runPaused, type QmpLink } from './qemu-harness.js';

const TIMEOUT_MS = 20_000;
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function newRoot(): string {
  const r = mkdtempSync(join(tmpdir(), 'vmkit-dev-'));
  roots.push(r);
  return r;
}

async function startPaused(spec: DomainSpec, root: string, session?: (qmp: QmpLink) => Promise<void>, stderr = ''): Promise<void> {
  const ctx = argvContext(root);
  const run = await runPaused(buildArgv(spec, ctx), { ...ctx.paths, timeoutMs: TIMEOUT_MS, ...(session === undefined ? {} : { session }) });
  const context = `QEMU ${run.code === null ? `killed by ${run.signal}` : `exited ${run.code}`}; stderr: ${run.stderr}`;
  assert.equal(run.sessionError, undefined, `${context} ${String(run.sessionError)}`);
  assert.ok(run.sessionDone, `QEMU never answered QMP: ${context}`);
  assert.equal(run.code, 0, context);
  assert.equal(run.stderr, stderr, context);
}

describe('QEMU 7.2 accepts the generated device options (TCG, paused)', () => {
  test('serial to a file with a comma in its path, appended to: QEMU creates the file', async () => {
    const root = newRoot();
    const path = join(root, 'serial,1.log');
    await startPaused({ ...baseSpec(root), serial: { mode: 'file', path, append: true } }, root);
    assert.ok(existsSync(path), `QEMU created ${path}`);
  });

  test('serial on a unix socket QEMU listens on without waiting (server=on,wait=off)', async () => {
    const root = newRoot();
    const path = join(root, 's,1.sock');
    await startPaused({ ...baseSpec(root), serial: { mode: 'unix', path, server: true } }, root, async (qmp) => {
      const chardevs = (await qmp.command('query-chardev')).return as { label: string; filename: string }[];
      const serial = chardevs.find((c) => c.label === 'serial0');
      assert.match(serial?.filename ?? '', /^disconnected:unix:.*s,1\.sock,server=on$/, 'listening, no client yet');
      assert.ok(statSync(path).isSocket());
    });
  });

  test('VNC on an automatic port (display 0 up to 99): query-vnc reports the port QEMU took, and so does its log', async () => {
    const root = newRoot();
    let port = 0;
    const session = async (qmp: QmpLink): Promise<void> => {
      const vnc = (await qmp.command('query-vnc')).return as { enabled: boolean; service?: string };
      assert.equal(vnc.enabled, true);
      port = Number(vnc.service);
      assert.ok(port >= 5900 && port <= 5999, `port ${String(vnc.service)}`);
    };
    // With to= QEMU prints the address it bound on stderr (vmkit's run log keeps it).
    const ctx = argvContext(root);
    const run = await runPaused(buildArgv({ ...baseSpec(root), graphics: { type: 'vnc', listen: '127.0.0.1' } }, ctx), { ...ctx.paths, timeoutMs: TIMEOUT_MS, session });
    assert.equal(run.sessionError, undefined, String(run.sessionError));
    assert.ok(run.sessionDone, run.stderr);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, `VNC server running on 127.0.0.1:${port}\n`);
  });

  test('balloon with deflate-on-oom, free page reporting and a stats period; RNGs from a file and builtin', async () => {
    const root = newRoot();
    const spec: DomainSpec = {
      ...baseSpec(root),
      balloon: { statsPeriod: 10, autodeflate: true, freePageReporting: true },
      rngs: [{ backend: 'random', source: '/dev/urandom' }, { backend: 'builtin' }],
    };
    await startPaused(spec, root, async (qmp) => {
      const r = await qmp.command('qom-get', { path: '/machine/peripheral/balloon0', property: 'guest-stats-polling-interval' });
      assert.equal(r.return, 10);
    });
  });

  test('the same on microvm (virtio-mmio balloon and RNG)', async () => {
    const root = newRoot();
    const base = baseSpec(root);
    await startPaused({ ...base, machine: { type: 'microvm', accel: 'tcg' }, balloon: { autodeflate: false, freePageReporting: false }, rngs: [{ backend: 'builtin' }] }, root);
  });
});

describe('bridge NICs and assigned devices: option names only (they cannot start on this host)', () => {
  const help = (...args: string[]): string => execFileSync(QEMU, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  test('-netdev bridge exists, and QEMU reads its br= and helper (default /usr/lib/qemu/qemu-bridge-helper)', () => {
    assert.match(help('-netdev', 'help'), /^bridge$/m);
    const argv = buildArgv({ ...baseSpec(), nics: [{ kind: 'bridge', id: 'net0', model: 'virtio', bridge: 'br0', mtu: 9000, bootIndex: 1 }] }, argvContext());
    assert.ok(argv.includes('bridge,id=net0,br=br0'));
    assert.match(help('-device', 'virtio-net-pci,help'), /host_mtu=/);
    assert.match(help('-device', 'virtio-net-pci,help'), /bootindex=/);
  });

  test('vfio-pci takes host= and bootindex= (an assigned NIC and a host device use the same device)', () => {
    const out = help('-device', 'vfio-pci,help');
    assert.match(out, /^\s+host=/m);
    assert.match(out, /^\s+bootindex=/m);
  });
});
