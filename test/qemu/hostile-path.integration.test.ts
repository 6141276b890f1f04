/**
 * A disk path full of QemuOpts syntax (`,file=`, `=`, spaces, quotes) reaches real QEMU as one filename:
 * QEMU reports exactly that path for the disk's file node and nothing else.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { buildArgv, diskNodeNames } from '../../src/qemu/argv/index.js';
import { argvContext, baseSpec, disk } from './fixtures.js';
import { qemuImgCreate, runPaused } from './qemu-harness.js';

test('real QEMU opens a disk whose path contains ",file=" and spaces as exactly that file', async () => {
  const root = mkdtempSync(join(tmpdir(), 'vmkit-hostile-'));
  try {
    const path = join(root, `my disk,file=${root}/shadow x,format=qcow2 "q" 'r'.img`);
    qemuImgCreate(path, 'raw');
    qemuImgCreate(join(root, 'shadow x'), 'raw');
    const spec = { ...baseSpec(root), disks: [disk(root, 'disk0', { format: 'raw', path })] };
    const ctx = argvContext(root);
    let nodes: { 'node-name': string; file: string; drv: string }[] = [];
    const run = await runPaused(buildArgv(spec, ctx), {
      ...ctx.paths,
      timeoutMs: 20_000,
      session: async (qmp) => {
        const reply = await qmp.command('query-named-block-nodes');
        nodes = reply['return'] as typeof nodes;
      },
    });
    assert.equal(run.sessionError, undefined, run.stderr);
    assert.ok(run.sessionDone, run.stderr);
    const names = diskNodeNames('disk0');
    const byName = new Map(nodes.map((n) => [n['node-name'], n]));
    assert.deepEqual(
      { file: byName.get(names.file)?.file, drv: byName.get(names.file)?.drv },
      { file: path, drv: 'file' },
    );
    assert.deepEqual({ file: byName.get(names.format)?.file, drv: byName.get(names.format)?.drv }, { file: path, drv: 'raw' });
    assert.deepEqual(nodes.map((n) => n.file).filter((f) => f !== path), [], 'QEMU opened another file');
    assert.equal(run.code, 0, run.stderr);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
