/**
 * Every golden argv case, built against a temporary root with real files, is accepted by the installed QEMU:
 * it starts paused (TCG), connects to our QMP socket, answers commands from its main loop (so every option
 * and device was accepted), and quits cleanly with nothing on stderr.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import type { DomainSpec } from '../../src/model/domain.js';
import { buildArgv } from '../../src/qemu/argv/index.js';
import { ARGV_CASES, argvContext, type ArgvCase, type CaseNeed } from './fixtures.js';
import { createSpecFiles, runPaused } from './qemu-harness.js';
import { withHugetlbfs } from './hugetlbfs.js';

const TIMEOUT_MS = 20_000;
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function newRoot(parent = tmpdir()): string {
  const r = mkdtempSync(join(parent, 'vmkit-argv-'));
  roots.push(r);
  return r;
}

/** Why this host cannot run the case, or undefined when it can. */
function missing(need: CaseNeed, spec: DomainSpec): string | undefined {
  if (need === 'tap') {
    if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun on this host';
    const ifnames = spec.nics.flatMap((n) => (n.kind === 'tap' ? [n.ifname] : []));
    const absent = ifnames.filter((i) => !existsSync(`/sys/class/net/${i}`));
    if (process.getuid?.() !== 0 && absent.length > 0) {
      return `not root, and tap devices ${absent.join(', ')} do not exist (create them with ip tuntap add ... user $USER)`;
    }
    return undefined;
  }
  return hugepagesAt(spec) ? undefined : 'hugepages';
}

/** True when the case's hugetlbfs mount (default /dev/hugepages) exists with enough free pages for its RAM. */
function hugepagesAt(spec: DomainSpec): boolean {
  const path = spec.memoryBacking.hugepages?.path ?? '/dev/hugepages';
  const mounted = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === path && l.split(' ')[2] === 'hugetlbfs');
  if (!mounted) return false;
  const info = readFileSync('/proc/meminfo', 'utf8');
  const free = Number(/HugePages_Free:\s+(\d+)/.exec(info)?.[1] ?? 0);
  const sizeKiB = Number(/Hugepagesize:\s+(\d+)/.exec(info)?.[1] ?? 0);
  return free * sizeKiB >= spec.memoryMiB * 1024;
}

async function assertAccepted(c: ArgvCase, spec: DomainSpec, root: string): Promise<void> {
  createSpecFiles(spec, c.extraImages?.(root) ?? []);
  const ctx = { ...argvContext(root), ...c.context };
  const argv = buildArgv(spec, ctx);
  const run = await runPaused(argv, { ...ctx.paths, timeoutMs: TIMEOUT_MS });
  const context = `QEMU ${run.code === null ? `killed by ${run.signal}` : `exited ${run.code}`}; stderr: ${run.stderr}`;
  assert.equal(run.sessionError, undefined, context);
  assert.ok(run.sessionDone, `QEMU never answered QMP: ${context}`);
  assert.equal(run.code, 0, context);
  assert.equal(run.stderr, '', context);
}

describe('QEMU 7.2 accepts every golden argv', () => {
  for (const c of ARGV_CASES) {
    test(`QEMU starts paused with the ${c.name} argv`, async (t) => {
      const root = newRoot();
      const spec = c.spec(root);
      const reasons = (c.needs ?? []).flatMap((n) => missing(n, spec) ?? []);
      if (reasons.includes('hugepages')) {
        // No usable hugetlbfs at the case's mount point: mount a private one and reserve the pages (root),
        // so the case really runs; where that cannot be done the test fails saying why.
        t.diagnostic(`${c.name}: no hugetlbfs with enough free pages at ${spec.memoryBacking.hugepages?.path ?? '/dev/hugepages'}; using a private mount`);
        await withHugetlbfs(spec.memoryMiB, (mnt) =>
          assertAccepted(c, { ...spec, memoryBacking: { ...spec.memoryBacking, hugepages: { ...spec.memoryBacking.hugepages, path: mnt } } }, root),
        );
        return;
      }
      if (reasons.length > 0) {
        t.diagnostic(`skipping ${c.name}: ${reasons.join('; ')}`);
        t.skip(reasons.join('; '));
        return;
      }
      await assertAccepted(c, spec, root);
    });
  }

  test('QEMU accepts the hugepages memory backend options with a plain directory as mem-path', async () => {
    // Checks the option syntax of the hugepages case on hosts without hugetlbfs: memory-backend-file takes
    // any directory; /dev/shm keeps the preallocated RAM off the disk.
    const c = ARGV_CASES.find((x) => x.name === 'hugepages');
    assert.ok(c !== undefined);
    const root = newRoot();
    const memDir = newRoot(existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
    const base = c.spec(root);
    const spec: DomainSpec = { ...base, memoryBacking: { ...base.memoryBacking, hugepages: { path: memDir } } };
    await assertAccepted(c, spec, root);
  });
});
